"""The push outbox: a Web Push notice asked for in a request is a row the
worker sends (as mail is), with a lease, retries and one queued notice per
user and tag.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 04:13:41.646490

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=200), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('ttl', sa.Integer(), nullable=False),
    sa.Column('fallback', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'no-device')", name=op.f('ck_outbox_push_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_push_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_push'))
    )
    with op.batch_alter_table('outbox_push', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_push_open', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('uq_outbox_push_coalesce', ['user_id', 'tag'], unique=True, sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))



def downgrade():
    with op.batch_alter_table('outbox_push', schema=None) as batch_op:
        batch_op.drop_index('uq_outbox_push_coalesce', sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
        batch_op.drop_index('ix_outbox_push_open')

    op.drop_table('outbox_push')
