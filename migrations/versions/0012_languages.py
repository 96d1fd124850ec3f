"""Languages: each user's choice, the clinic's default, and the exercises'
translations (the shipped library's filled from backend/seed/exercises.json).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:58:00

"""
import json
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LIBRARY_FILE = (
    Path(__file__).resolve().parents[2] / "backend" / "seed" / "exercises.json"
)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))

    # the shipped exercises' translations, as the library file has them now
    exercises = sa.table(
        'exercises', sa.column('slug', sa.String), sa.column('translations', sa.JSON)
    )
    entries = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))
    for entry in entries:
        if entry.get("translations"):
            op.execute(
                exercises.update()
                .where(exercises.c.slug == entry["slug"])
                .values(translations=entry["translations"])
            )


def downgrade():
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('default_language')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
