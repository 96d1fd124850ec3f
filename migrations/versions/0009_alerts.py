"""Alerts a therapist acts on (one open episode per patient and rule, then
new, acknowledged, resolved) and each clinic's changes to the rules.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 07:48:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('episode_open', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("severity IN ('critical', 'warning')", name=op.f('ck_alerts_severity')),
    sa.CheckConstraint("state IN ('new', 'acknowledged', 'resolved')", name=op.f('ck_alerts_state')),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_alerts_acknowledged_by_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_alerts_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_alerts_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_alerts_resolved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_clinic_state', ['clinic_id', 'state'], unique=False)
        batch_op.create_index('ix_alerts_patient', ['patient_id'], unique=False)
        batch_op.create_index('uq_alerts_open_episode', ['patient_id', 'rule'], unique=True, sqlite_where=sa.text('episode_open'), postgresql_where=sa.text('episode_open'))

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_settings', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('alert_settings')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_open_episode', sqlite_where=sa.text('episode_open'), postgresql_where=sa.text('episode_open'))
        batch_op.drop_index('ix_alerts_patient')
        batch_op.drop_index('ix_alerts_clinic_state')

    op.drop_table('alerts')
