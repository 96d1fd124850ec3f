"""Messages, flare-ups and PSFS: one message thread per patient (each message
keyed by the client's UUID, read by the other side), the patient's flare-up
reports (keyed the same way) and Patient-Specific Functional Scale
questionnaires.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:26:58

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table('flare_ups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('triggers', sa.JSON(), nullable=False),
    sa.Column('helped', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('severity BETWEEN 0 AND 10', name=op.f('ck_flare_ups_severity')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_flare_ups_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flare_ups'))
    )
    with op.batch_alter_table('flare_ups', schema=None) as batch_op:
        batch_op.create_index('ix_flare_ups_patient_day', ['patient_id', 'started_on'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_messages_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_thread', ['patient_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_messages_unread', ['patient_id', 'author_id'], unique=False, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))

    op.create_table('psfs_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('activities', sa.JSON(), nullable=False),
    sa.Column('mean', sa.Double(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_psfs_responses_created_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_psfs_responses_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psfs_responses'))
    )
    with op.batch_alter_table('psfs_responses', schema=None) as batch_op:
        batch_op.create_index('ix_psfs_responses_patient_day', ['patient_id', 'taken_on'], unique=False)


def downgrade():
    with op.batch_alter_table('psfs_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_psfs_responses_patient_day')

    op.drop_table('psfs_responses')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_unread', sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.drop_index('ix_messages_thread')

    op.drop_table('messages')
    with op.batch_alter_table('flare_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_flare_ups_patient_day')

    op.drop_table('flare_ups')