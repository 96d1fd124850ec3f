"""Password hashing with argon2id (argon2-cffi)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10


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
