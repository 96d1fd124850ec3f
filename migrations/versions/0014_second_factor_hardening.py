"""Second factor hardening: TOTP secrets encrypted at rest (Fernet, the keys
of FIELD_ENCRYPTION_KEYS, as the app reads them), a pending secret that waits
for its confirmation, recovery codes as argon2 hashes, and the wrong codes a
half-signed session was given.

Existing recovery codes were stored as SHA-256 hex digests: each becomes the
argon2 hash of that digest, which is what the app checks a code against
(argon2 over the code's SHA-256), so no code already printed stops working.
Downgrading decrypts the secrets again and deletes the recovery codes (an
argon2 hash cannot be turned back); their owners make new ones by setting up
their authenticator again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00

"""

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("totp_secret", sa.String),
)
recovery_codes = sa.table(
    "recovery_codes",
    sa.column("id", sa.Integer),
    sa.column("code_hash", sa.String),
)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
        batch_op.add_column(
            sa.Column("totp_pending_secret", sa.String(length=255), nullable=True)
        )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.alter_column(
            "code_hash",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=False,
        )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wrong_codes", sa.Integer(), server_default="0", nullable=False)
        )

    connection = op.get_bind()
    # the keyring and hasher the app itself built from its settings
    keys = current_app.extensions["homeward_fields"]
    passwords = current_app.extensions["homeward_passwords"]
    for user_id, secret in connection.execute(
        sa.select(users.c.id, users.c.totp_secret).where(
            users.c.totp_secret.is_not(None)
        )
    ).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(totp_secret=keys.encrypt(secret.encode()).decode())
        )
    for code_id, digest in connection.execute(
        sa.select(recovery_codes.c.id, recovery_codes.c.code_hash)
    ).all():
        connection.execute(
            recovery_codes.update()
            .where(recovery_codes.c.id == code_id)
            .values(code_hash=passwords.hash(digest))
        )


def downgrade():
    connection = op.get_bind()
    keys = current_app.extensions["homeward_fields"]
    connection.execute(recovery_codes.delete())
    for user_id, secret in connection.execute(
        sa.select(users.c.id, users.c.totp_secret).where(
            users.c.totp_secret.is_not(None)
        )
    ).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(totp_secret=keys.decrypt(secret.encode()).decode())
        )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("wrong_codes")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.alter_column(
            "code_hash",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_pending_secret")
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
