"""A patient's invitation keeps its token sealed (encrypted with the field
keys) besides its hash, so a reprinted handout carries the same link instead
of issuing another. Existing invitations have none and are not reused.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_sealed', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('token_sealed')
