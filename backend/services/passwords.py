"""Password hashing with argon2id (argon2-cffi), and what a password must be:
10 to 128 characters and not guessable (zxcvbn, offline: no network look-up)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import get_locale
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_STRENGTH = 3  # zxcvbn's score, 0..4: "safely unguessable" from 3


class Passwords:
    """Hashes and checks passwords; the cost comes from the app's settings."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        # Checked against when the email is unknown, so both failures cost the same.
        self._dummy_hash = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(
                password_hash or self._dummy_hash, password
            ) and (password_hash is not None)
        except (VerificationError, InvalidHashError):
            return False


def weakness(password: str, *personal: str) -> str | None:
    """Why `password` will not do, in plain words, or None when it is fine.
    `personal` are words an attacker knows (the person's name and email)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(count)s characters.", count=MAX_PASSWORD_LENGTH)
    words = [part for value in personal if value for part in value.split("@")]
    verdict = zxcvbn(password, user_inputs=words)
    if verdict["score"] >= MIN_STRENGTH:
        return None
    too_easy = _("This password is too easy to guess.")
    locale = get_locale()
    if locale is not None and locale.language != "en":
        return too_easy  # zxcvbn's own advice is in English only
    feedback = verdict["feedback"]
    reason = feedback.get("warning") or too_easy
    advice = " ".join(feedback.get("suggestions") or [])
    return f"{reason} {advice}".strip()
