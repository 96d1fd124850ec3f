"""The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, with pyotp),
its QR code (segno, as inline SVG), and single-use recovery codes.

Who needs it is an access rule (backend/access.py: needs_second_factor). A
code is accepted within one step either side of now, and never twice: the
last step accepted is stored, and a code from that step or an earlier one is
refused. Secrets are encrypted at rest (models.base.EncryptedString); a new
secret waits in `totp_pending_secret`, the old one in force, until a code
confirms it. Recovery codes are kept as argon2 hashes (`passwords`: the
app's password hasher).
"""

import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, select, update

from backend.extensions import db
from backend.models import RecoveryCode, User
from backend.services.dates import now_utc

ISSUER = "Homeward"
RECOVERY_CODES = 10
WINDOW = 1  # steps either side of now
RECOVERY_CODE = re.compile(r"[0-9a-f]{12}")  # normalised: three groups of four


def enrolled(user: User) -> bool:
    return user.totp_enrolled_at is not None and user.totp_secret is not None


def start_enrolment(user: User) -> dict:
    """A new secret for `user`, pending: any secret in force stays so until
    the new one is confirmed. With the otpauth URI and its QR code. The
    caller commits."""
    user.totp_pending_secret = pyotp.random_base32()
    return enrolment(user, user.totp_pending_secret)


def enrolment(user: User, secret: str) -> dict:
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=f"{ISSUER} ({user.clinic.name})"
    )
    svg = io.BytesIO()
    segno.make(uri, error="m").save(
        svg,
        kind="svg",
        xmldecl=False,
        scale=5,
        border=2,
        dark="#000",
        light="#fff",
        title="QR code for your authenticator app",
        nl=False,
    )
    return {
        "secret": secret,
        "otpauth_uri": uri,
        "qr_svg": svg.getvalue().decode(),  # with its namespace: inline or as an image
    }


def _digest(code: str) -> str:
    # argon2 is over this digest, so migration 0014 could re-hash the
    # SHA-256 digests stored before it in place
    return hashlib.sha256(code.encode()).hexdigest()


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def accept_totp(
    user: User, code: str, now: datetime | None = None, secret: str | None = None
) -> bool:
    """True (and the step is remembered) when `code` is the current TOTP code
    of `secret` (default: the one in force), or one step either side, and no
    code of that step or later was accepted. The caller commits."""
    secret = secret or user.totp_secret
    if secret is None or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now or now_utc())
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code.strip()):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False  # a replay
            # claimed with a conditional UPDATE: two requests racing with one
            # code cannot both pass
            claimed = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    (User.totp_last_step.is_(None)) | (User.totp_last_step < candidate),
                )
                .values(totp_last_step=candidate)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                user.totp_last_step = candidate
            return bool(claimed)
    return False


def accept_recovery_code(
    user: User, code: str, passwords, now: datetime | None = None
) -> bool:
    """True when `code` is one of the user's unused recovery codes (now used):
    checked against each unused code's hash."""
    normalised = _normalised(code)
    if not RECOVERY_CODE.fullmatch(normalised):
        return False  # a 6-digit code costs no argon2 round
    unused = db.session.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    digest = _digest(normalised)
    for code_id, code_hash in unused:
        if passwords.verify(code_hash, digest):
            # claimed with a conditional UPDATE: a race uses it once
            used = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
                .values(used_at=now or now_utc())
                .execution_options(synchronize_session=False)
            ).rowcount
            return bool(used)
    return False


def accept(user: User, code: str, passwords) -> bool:
    """A TOTP code or, failing that, an unused recovery code."""
    return accept_totp(user, code) or accept_recovery_code(user, code, passwords)


def confirm_enrolment(user: User, code: str, passwords) -> list[str] | None:
    """Put the pending secret in force if `code` matches it; returns the ten
    new recovery codes (shown once; only their hashes are stored), or None.
    The caller commits."""
    pending = user.totp_pending_secret
    if pending is None or not accept_totp(user, code, secret=pending):
        return None
    user.totp_secret = pending
    user.totp_pending_secret = None
    user.totp_enrolled_at = now_utc()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(
        RecoveryCode(
            user_id=user.id, code_hash=passwords.hash(_digest(_normalised(code)))
        )
        for code in codes
    )
    return codes


def reset(user: User) -> None:
    """Forget the user's second factor: they enrol again at their next sign-in
    (if they need one). The caller ends their sessions and commits."""
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
