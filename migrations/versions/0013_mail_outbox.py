"""The mail outbox: every email is a row the worker sends, with retries,
a lease for a worker that dies mid-send, and coalescing of notices.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('message', sa.LargeBinary(), nullable=True),
    sa.Column('coalesce_key', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'dropped')", name=op.f('ck_outbox_mail_status')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_outbox_mail_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_mail_recipient_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail'))
    )
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mail_open', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_mail_clinic', ['clinic_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_mail_coalesce_recent', ['coalesce_key', 'created_at'], unique=False)
        batch_op.create_index('uq_outbox_mail_coalesce', ['coalesce_key'], unique=True, sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))


def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_index('uq_outbox_mail_coalesce', sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
        batch_op.drop_index('ix_outbox_mail_coalesce_recent')
        batch_op.drop_index('ix_outbox_mail_clinic')
        batch_op.drop_index('ix_outbox_mail_open')

    op.drop_table('outbox_mail')
