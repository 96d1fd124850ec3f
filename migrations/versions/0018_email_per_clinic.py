"""An email is unique within a clinic, not across clinics: a person of two
clinics has an account at each (and neither clinic learns of the other).
Lookups by email keep an index; users remember their last completed sign-in
(which account a password opens when it opens several).

Downgrading needs every email to be unique again: it fails while two clinics
share one.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 09:00:00

"""

from alembic import op
import sqlalchemy as sa

from backend.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_email", type_="unique")
        batch_op.create_unique_constraint(
            "uq_users_clinic_id_email", ["clinic_id", "email"]
        )
        batch_op.create_index("ix_users_email", ["email"], unique=False)
        batch_op.add_column(sa.Column("last_signed_in_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_signed_in_at")
        batch_op.drop_index("ix_users_email")
        batch_op.drop_constraint("uq_users_clinic_id_email", type_="unique")
        batch_op.create_unique_constraint("uq_users_email", ["email"])
