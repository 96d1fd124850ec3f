"""Reminders: each patient's choice of times, days and channel, each device's
Web Push subscription (ended with its session), and every reminder or nudge
sent (one row per patient, slot and day).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 07:15:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table('reminder_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('slot', sa.String(length=5), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('reminder', 'nudge')", name=op.f('ck_reminder_sends_kind')),
    sa.CheckConstraint("outcome IN ('pending', 'sending', 'retry', 'sent', 'failed', 'no-device', 'skipped')", name=op.f('ck_reminder_sends_outcome')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_reminder_sends_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by'], ['users.id'], name=op.f('fk_reminder_sends_sent_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sends')),
    sa.UniqueConstraint('patient_id', 'kind', 'local_date', 'slot', name='uq_reminder_sends_once')
    )
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_sends_open', ['outcome', 'next_attempt_at'], unique=False)

    op.create_table('reminder_settings',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('times', sa.JSON(), nullable=False),
    sa.Column('days_of_week', sa.JSON(), nullable=False),
    sa.Column('paused_until', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('push', 'email', 'off')", name=op.f('ck_reminder_settings_channel')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_reminder_settings_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_reminder_settings'))
    )
    with op.batch_alter_table('reminder_settings', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_settings_channel', ['channel'], unique=False)

    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('endpoint', sa.String(length=1000), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_push_subscriptions_session_id_user_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_push_subscriptions_user', ['user_id'], unique=False)

def downgrade():
    
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_push_subscriptions_user')
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_session_id'))

    op.drop_table('push_subscriptions')
    with op.batch_alter_table('reminder_settings', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_settings_channel')

    op.drop_table('reminder_settings')
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_sends_open')

    op.drop_table('reminder_sends')

