"""Signed-in sessions kept on the server (the cookie holds only a random token);
one patient's ticks by day.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 04:05:42.878933

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('device', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('second_factor', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_user_sessions_user', ['user_id'], unique=False)

    with op.batch_alter_table('exercise_logs', schema=None) as batch_op:
        batch_op.create_index('ix_exercise_logs_patient_day', ['patient_id', 'performed_on'], unique=False)



def downgrade():
    with op.batch_alter_table('exercise_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_logs_patient_day')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_user_sessions_user')

    op.drop_table('user_sessions')
