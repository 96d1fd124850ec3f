"""Grow: the patient list a page at a time, and long histories.

Users by clinic, role and name (then id), so a keyset page by name reads only
its own rows; a patient's ticks by day and then the time they were made, so
the routine reads one day in order and the list finds a patient's last day
with one probe, however many years of ticks they have.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:06:36

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exercise_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_logs_patient_day')
        batch_op.create_index('ix_exercise_logs_patient_day', ['patient_id', 'performed_on', 'created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_clinic_role')
        batch_op.create_index('ix_users_clinic_role_name', ['clinic_id', 'role', 'name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_clinic_role_name')
        batch_op.create_index('ix_users_clinic_role', ['clinic_id', 'role'], unique=False)

    with op.batch_alter_table('exercise_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_logs_patient_day')
        batch_op.create_index('ix_exercise_logs_patient_day', ['patient_id', 'performed_on'], unique=False)
