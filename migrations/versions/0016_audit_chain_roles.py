"""The audit trail as a hash chain: each row carries the previous row's hash
and its own; the rows already there are linked now, in id order.

(The runtime role's grants are `flask grant-runtime ROLE`: README, "Database".)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from backend.models.oversight import APPEND_ONLY
from backend.models.base import UTCDateTime
from backend.services.audit_chain import CONTENT, content, link_hash


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BATCH = 1000  # rows read and linked at a time


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    create, drop = APPEND_ONLY[op.get_bind().dialect.name]
    for statement in drop:  # the owner lifts them for this one pass
        op.execute(statement)
    _link_existing_rows()
    for statement in create:
        op.execute(statement)


def _link_existing_rows():
    typed = {'at': UTCDateTime(), 'detail': sa.JSON(), 'id': sa.Integer()}
    events = sa.table(
        'audit_events',
        *(sa.column(name, typed.get(name)) for name in ('id', *CONTENT)),
        sa.column('prev_hash', sa.String), sa.column('hash', sa.String),
    )
    link = (
        events.update()
        .where(events.c.id == sa.bindparam('row_id'))
        .values(prev_hash=sa.bindparam('new_prev'), hash=sa.bindparam('new_hash'))
    )
    connection = op.get_bind()
    last_id, previous = 0, None
    while True:
        rows = connection.execute(
            sa.select(events).where(events.c.id > last_id)
            .order_by(events.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            return
        links = []
        for row in rows:
            new_hash = link_hash(previous, content(row))
            links.append({'row_id': row['id'], 'new_prev': previous, 'new_hash': new_hash})
            previous = new_hash
        connection.execute(link, links)
        last_id = rows[-1]['id']


def downgrade():
    create, drop = APPEND_ONLY[op.get_bind().dialect.name]
    for statement in drop:  # SQLite copies the table to drop a column
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    for statement in create:
        op.execute(statement)
