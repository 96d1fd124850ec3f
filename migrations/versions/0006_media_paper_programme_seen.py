"""Exercise media (a clinic's pictures and videos), the handout's paper size,
and the programme version whose changes a patient has seen.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exercise_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('exercise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('file', sa.String(length=80), nullable=False),
    sa.Column('thumb', sa.String(length=80), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('image', 'video')", name=op.f('ck_exercise_media_kind')),
    sa.CheckConstraint('bytes > 0', name=op.f('ck_exercise_media_bytes')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_exercise_media_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exercise_media_created_by_users')),
    sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_exercise_media_exercise_id_exercises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_media'))
    )
    with op.batch_alter_table('exercise_media', schema=None) as batch_op:
        batch_op.create_index('ix_exercise_media_clinic_exercise', ['clinic_id', 'exercise_id'], unique=False)

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_size', sa.String(length=8), server_default='A4', nullable=False))
        batch_op.create_check_constraint('paper', "paper_size IN ('A4', 'Letter')")

    with op.batch_alter_table('patient_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_seen_version', sa.Integer(), nullable=True))

    # patients already on a programme have seen it: no "changed" note for the past
    op.execute(
        "UPDATE patient_profiles SET programme_seen_version = ("
        "SELECT MAX(version) FROM programme_versions "
        "WHERE programme_versions.patient_id = patient_profiles.user_id)"
    )


def downgrade():
    with op.batch_alter_table('patient_profiles', schema=None) as batch_op:
        batch_op.drop_column('programme_seen_version')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint('paper', type_='check')
        batch_op.drop_column('paper_size')

    with op.batch_alter_table('exercise_media', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_media_clinic_exercise')

    op.drop_table('exercise_media')
