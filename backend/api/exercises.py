"""The exercise library: the shipped entries plus the clinic's own, with the
clinic's own pictures and videos of them (services/media.py)."""

from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy import func
from werkzeug.exceptions import HTTPException

from backend.access import (
    actor,
    clinic_media,
    exercise_or_404,
    own_exercise_or_403,
    require_role,
    visible_exercises,
)
from backend.api.common import documents
from backend.extensions import db
from backend.models import Exercise, ExerciseMedia
from backend.schemas.exercises import (
    ExerciseInSchema,
    ExercisePatchSchema,
    ExerciseQuerySchema,
    ExerciseSchema,
    MediaSchema,
    MediaUploadSchema,
)
from backend.services import media

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
    exercises = db.session.scalars(statement.order_by(Exercise.name)).all()
    media.attach(exercises, actor().clinic_id)
    return exercises


@blp.route("/<int:exercise_id>", methods=["GET"])
@blp.response(200, ExerciseSchema)
@documents(blp, 401, 404)
def get_exercise(exercise_id):
    user = actor()
    exercise = exercise_or_404(user, exercise_id)
    media.attach([exercise], user.clinic_id)
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


@blp.route("/<int:exercise_id>", methods=["PATCH"])
@blp.arguments(ExercisePatchSchema(partial=True))
@blp.response(200, ExerciseSchema)
@documents(blp, 401, 403, 404, 422)
def update_exercise(body, exercise_id):
    """Change one of the clinic's own exercises (its words in other languages
    too: `translations` replaces what was there). The shipped library is
    read-only."""
    user = require_role("therapist", "admin")
    exercise = own_exercise_or_403(user, exercise_id)
    for field, value in body.items():
        setattr(exercise, field, value.strip() if field == "name" else value)
    db.session.commit()
    media.attach([exercise], user.clinic_id)
    return exercise


# ---- the clinic's pictures and video of an exercise -------------------------


def _stored(files: dict, clinic_id: int, replacing: int = 0) -> media.Stored:
    stream = files["file"].stream
    try:
        media.check_quota(clinic_id, media.size_of(stream) - replacing)
        return media.store(stream)
    except media.Refused as refused:
        if refused.status == 507:  # werkzeug's abort() knows no 507
            full = InsufficientStorage()
            full.data = {"message": refused.message}
            raise full from None
        abort(refused.status, message=refused.message)


class InsufficientStorage(HTTPException):
    code = 507
    description = "The server's disk is full."


def _too_many_pictures():
    abort(
        409,
        message=_(
            "An exercise may have %(count)s pictures: delete or replace one first.",
            count=media.MAX_IMAGES,
        ),
    )


def _media_or_404(user, exercise_id: int, media_id: int) -> ExerciseMedia:
    found = db.session.scalar(
        clinic_media(user).where(
            ExerciseMedia.id == media_id, ExerciseMedia.exercise_id == exercise_id
        )
    )
    if found is None:
        abort(404, message=_("No such picture or video."))
    return found


def _of_kind(user, exercise_id: int, kind: str) -> list[ExerciseMedia]:
    return db.session.scalars(
        clinic_media(user).where(
            ExerciseMedia.exercise_id == exercise_id, ExerciseMedia.kind == kind
        )
    ).all()


@blp.route("/<int:exercise_id>/media", methods=["POST"])
@blp.arguments(MediaUploadSchema, location="files")
@blp.response(201, MediaSchema)
@documents(blp, 401, 403, 404, 409, 413, 415, 422, 507)
def upload_media(files, exercise_id):
    """Add the clinic's own picture (JPEG, PNG, WebP, HEIC; up to 10 MB) or
    video (MP4, WebM; up to 50 MB) of an exercise, its own or a shipped one.
    The file is recognised by its content; a picture is re-encoded without
    its metadata. A new video replaces the clinic's video of the exercise."""
    user = require_role("therapist", "admin")
    exercise_or_404(user, exercise_id)
    kind = media.kind_of(files["file"].stream)
    if kind == "image" and media.count_of_kind(
        user.clinic_id, exercise_id, "image"
    ) >= (media.MAX_IMAGES):
        _too_many_pictures()  # before decoding it
    stored = _stored(files, user.clinic_id)
    db.session.commit()  # the read is over: the lock below starts the write
    media.lock_exercise(exercise_id)
    if stored.kind == "image" and (
        media.count_of_kind(user.clinic_id, exercise_id, "image") >= media.MAX_IMAGES
    ):  # another upload of the same moment came first
        db.session.rollback()
        media.forget_files(media.files_of(stored))
        _too_many_pictures()
    replaced = _of_kind(user, exercise_id, "video") if stored.kind == "video" else []
    added = ExerciseMedia(
        clinic_id=user.clinic_id,
        exercise_id=exercise_id,
        created_by=user.id,
        **vars(stored),
    )
    db.session.add(added)
    for old in replaced:
        db.session.delete(old)
    db.session.commit()
    media.forget_files(set().union(*(media.files_of(old) for old in replaced)))
    return added


@blp.route("/<int:exercise_id>/media/<int:media_id>", methods=["PUT"])
@blp.arguments(MediaUploadSchema, location="files")
@blp.response(200, MediaSchema)
@documents(blp, 401, 403, 404, 413, 415, 422, 507)
def replace_media(files, exercise_id, media_id):
    """Replace a picture or the video with another file (of either kind)."""
    user = require_role("therapist", "admin")
    found = _media_or_404(user, exercise_id, media_id)
    stored = _stored(files, user.clinic_id, replacing=found.bytes)
    old_files = media.files_of(found)
    for name, value in vars(stored).items():
        setattr(found, name, value)
    found.created_by = user.id
    db.session.commit()
    media.forget_files(old_files - media.files_of(found))
    return found


@blp.route("/<int:exercise_id>/media/<int:media_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def delete_media(exercise_id, media_id):
    user = require_role("therapist", "admin")
    found = _media_or_404(user, exercise_id, media_id)
    names = media.files_of(found)
    db.session.delete(found)
    db.session.commit()
    media.forget_files(names)
