"""The exercise library: the shipped entries plus the clinic's own."""

from flask_smorest import Blueprint, abort
from sqlalchemy import func

from backend.api.common import documents
from backend.auth import actor, require_role, visible_exercises
from backend.extensions import db
from backend.models import Exercise
from backend.schemas.exercises import (
    ExerciseInSchema,
    ExerciseQuerySchema,
    ExerciseSchema,
)

blp = Blueprint(
    "exercises", __name__, url_prefix="/api/exercises", description="Exercise library"
)


@blp.route("", methods=["GET"])
@blp.arguments(ExerciseQuerySchema(), location="query")
@blp.response(200, ExerciseSchema(many=True))
@documents(blp, 401)
def list_exercises(query):
    """Search the library by category and by words in the name or body region."""
    statement = visible_exercises(actor())
    if "category" in query:
        statement = statement.where(Exercise.category == query["category"])
    for word in (query.get("q") or "").split():
        pattern = f"%{word.lower()}%"
        statement = statement.where(
            func.lower(Exercise.name).like(pattern)
            | func.lower(Exercise.body_region).like(pattern)
        )
    return db.session.scalars(statement.order_by(Exercise.name)).all()


@blp.route("/<int:exercise_id>", methods=["GET"])
@blp.response(200, ExerciseSchema)
@documents(blp, 401, 404)
def get_exercise(exercise_id):
    exercise = db.session.scalar(
        visible_exercises(actor()).where(Exercise.id == exercise_id)
    )
    if exercise is None:
        abort(404, message="No such exercise.")
    return exercise


@blp.route("", methods=["POST"])
@blp.arguments(ExerciseInSchema())
@blp.response(201, ExerciseSchema)
@documents(blp, 401, 403)
def create_exercise(body):
    """Add an exercise that only this clinic sees."""
    user = require_role("therapist", "admin")
    exercise = Exercise(
        clinic_id=user.clinic_id,
        created_by=user.id,
        **{**body, "name": body["name"].strip()},
    )
    db.session.add(exercise)
    db.session.commit()
    return exercise
