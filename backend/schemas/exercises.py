"""The exercise library on the wire."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, missing, validate

from backend.i18n import DEFAULT_LANGUAGE, LANGUAGES
from backend.models import CATEGORIES
from backend.schemas.common import StrictInt, name_field, text
from backend.services import media as media_files
from backend.services.library import in_language, stored_words

TRANSLATED_INTO = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]


class MediaUrl(fields.String):
    """The URL of a stored media file, from its name."""

    def _serialize(self, value, attr, obj, **kwargs):
        return media_files.url(value)


class MediaSchema(Schema):
    """A clinic's picture or video of an exercise. URLs are content-addressed:
    a replaced file gets a new one."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["image", "video"]))
    url = MediaUrl(attribute="file", required=True)
    thumb_url = MediaUrl(
        attribute="thumb",
        allow_none=True,
        metadata={"description": "A picture's small size (480 px); null for video."},
    )
    content_type = fields.String(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    bytes = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class IllustrationSchema(Schema):
    url = fields.String(required=True)
    alt = fields.String(required=True, metadata={"description": "What the body does."})


class Illustration(fields.Nested):
    """A shipped exercise's line drawing, found by the exercise's slug."""

    def serialize(self, attr, obj, accessor=None, **kwargs):
        slug = obj.get("slug") if isinstance(obj, dict) else getattr(obj, "slug", None)
        drawing = media_files.illustration(slug)
        if drawing is not None:
            drawing = drawing | {"alt": in_language(obj, "alt", drawing["alt"])}
        return self._serialize(drawing, attr, obj, **kwargs)


class InLanguage(fields.String):
    """An exercise's name or instructions in the request's language, when the
    exercise has that translation (services/library.py)."""

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return in_language(obj, attr)


class ExerciseTextSchema(Schema):
    """An exercise's words in another language: any of them."""

    name = name_field()
    instructions = text(5000, multiline=True, min_length=1)
    alt = text(1000, min_length=1, metadata={"description": "The drawing's alt."})


def translations_field(**kwargs) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(TRANSLATED_INTO)),
        values=fields.Nested(ExerciseTextSchema),
        allow_none=True,
        metadata={
            "description": 'The exercise in other languages: {"es": {"name", '
            '"instructions", "alt"}}, any of them; English where one is missing.'
        },
        **kwargs,
    )


class ExerciseSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(
        allow_none=True,
        metadata={"description": "The stable key of a shipped exercise; else null."},
    )
    name = InLanguage(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    body_region = fields.String(required=True)
    instructions = InLanguage(required=True)
    translations = translations_field()
    english = fields.Method(
        "_english",
        metadata={
            "description": "The English name and instructions as stored, when "
            "`name` and `instructions` are given in another language (what an "
            "editor changes)."
        },
    )
    media_url = fields.String(allow_none=True)
    default_sets = fields.Integer(required=True)
    default_reps = fields.Integer(required=True)
    default_hold_seconds = fields.Integer(required=True)
    clinic_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the shipped library."}
    )
    illustration = Illustration(
        IllustrationSchema,
        allow_none=True,
        metadata={"description": "The shipped line drawing: start and end positions."},
    )
    media = fields.List(
        fields.Nested(MediaSchema),
        dump_default=list,
        metadata={"description": "The clinic's own pictures (first) and video."},
    )

    def _english(self, exercise):
        return stored_words(exercise) or missing


class ExerciseInSchema(Schema):
    name = name_field(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    body_region = text(100, min_length=1, required=True)
    instructions = fields.String(
        required=True, validate=validate.Length(min=1, max=5000)
    )
    media_url = fields.Url(
        allow_none=True, schemes={"https"}, validate=validate.Length(max=500)
    )
    default_sets = StrictInt(load_default=1, validate=validate.Range(1, 20))
    default_reps = StrictInt(load_default=1, validate=validate.Range(1, 100))
    default_hold_seconds = StrictInt(load_default=0, validate=validate.Range(0, 3600))
    translations = translations_field()


class ExercisePatchSchema(ExerciseInSchema):
    """A change to a clinic's own exercise: any of its fields (load partial)."""


class ExerciseQuerySchema(Schema):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    q = text(100)


class MediaUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "The picture or video."})
