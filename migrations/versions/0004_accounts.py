"""Accounts: a second factor (TOTP and recovery codes), password changes, and
links for staff invitations and password resets next to patient invitations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:32:33.733484

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_therapist_mfa', sa.Boolean(), server_default=sa.true(), nullable=False))

    # invitations now invite staff too, and reset passwords: patient_id becomes
    # user_id, keeping the links already sent
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_patient_id'))
        batch_op.drop_constraint(batch_op.f('fk_invitations_patient_id_users'), type_='foreignkey')
        batch_op.alter_column('patient_id', new_column_name='user_id', existing_type=sa.Integer(), existing_nullable=False)
        batch_op.add_column(sa.Column('purpose', sa.String(length=8), server_default='invite', nullable=False))
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_check_constraint('purpose', "purpose IN ('invite', 'reset')")
        batch_op.create_index(batch_op.f('ix_invitations_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitations_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enrolled_at')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('password_changed_at')

    op.execute("DELETE FROM invitations WHERE purpose <> 'invite'")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitations_user_id'))
        batch_op.drop_constraint(batch_op.f('ck_invitations_purpose'), type_='check')
        batch_op.drop_column('purpose')
        batch_op.alter_column('user_id', new_column_name='patient_id', existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_patient_id'), ['patient_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitations_patient_id_users'), 'users', ['patient_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('require_therapist_mfa')

    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')
