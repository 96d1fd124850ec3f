"""The audit trail holds in the database itself: triggers refuse UPDATE and
DELETE (and TRUNCATE on PostgreSQL); events recorded once carry a key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:30:00

"""
from alembic import op
import sqlalchemy as sa

from backend.models.oversight import APPEND_ONLY


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_once_key'), ['once_key'])
    create, _drop = APPEND_ONLY[op.get_bind().dialect.name]
    for statement in create:
        op.execute(statement)


def downgrade():
    _create, drop = APPEND_ONLY[op.get_bind().dialect.name]
    for statement in drop:
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_once_key'), type_='unique')
        batch_op.drop_column('once_key')
