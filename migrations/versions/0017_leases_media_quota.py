"""Leases: a running export job's lease (renewed by its worker, taken again
once it runs out) and its attempts; a reminder whose worker died and whose
slot has passed is "missed".

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OUTCOMES = "'pending', 'sending', 'retry', 'sent', 'failed', 'no-device', 'skipped'"


def upgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.alter_column('attempts', server_default=None)
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reminder_sends_outcome'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_reminder_sends_outcome'), f"outcome IN ({OUTCOMES}, 'missed')"
        )


def downgrade():
    op.execute("UPDATE reminder_sends SET outcome = 'failed' WHERE outcome = 'missed'")
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reminder_sends_outcome'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_reminder_sends_outcome'), f"outcome IN ({OUTCOMES})"
        )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('lease_until')
