"""Pictures and videos of exercises: the shipped line drawings, and each
clinic's own uploads.

Uploads are recognised by their content (`filetype`), never by their name or
the type the browser claims. Pictures (JPEG, PNG, WebP, HEIC) are decoded by
Pillow with its decompression-bomb guard as an error, turned upright and
re-encoded as WebP at two sizes: nothing of the original file is kept, so its
metadata (camera, time, location) is gone. A picture over MAX_PIXELS is
refused from its header, before any decoding, and a worker process decodes
one picture at a time. Videos (MP4, WebM) are kept as sent once their
container's top level parses (services/containers.py). Files live in
`MEDIA_DIR` under content-addressed names (the SHA-256 of their bytes), so
one file uploaded twice is stored once and a URL never changes what it shows;
they are written under `MEDIA_DIR/tmp/` first and moved in whole. A clinic's
files may take MEDIA_QUOTA_BYTES (413); a full disk is a 507 that leaves
nothing behind. `sweep` removes temp files older than an hour and files no
row names (the worker runs it hourly; `flask media check` lists them).
"""

import errno
import hashlib
import io
import json
import os
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import filetype
import pillow_heif
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps
from sqlalchemy import bindparam, func, select, text

from backend.extensions import db
from backend.models import ExerciseMedia
from backend.services.containers import parses_as

pillow_heif.register_heif_opener()

# content type (as filetype names it) → Pillow's format name
IMAGE_TYPES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}
LARGE, SMALL = 1600, 480  # the longer side of the two stored sizes, in pixels
MAX_PIXELS = 24_000_000  # more is refused (a decompression bomb, or no photo)
MAX_IMAGES = 6  # per exercise and clinic; and one video
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
CHUNK = 1024 * 1024
TEMP_DIR = "tmp"  # inside MEDIA_DIR: uploads being written
STALE = 3600  # seconds: a temp file this old, or a file no row names, is left over
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# a 24-megapixel picture takes ~100 MB decoded: one at a time per process
DECODING = threading.BoundedSemaphore(1)

ILLUSTRATIONS = Path(__file__).resolve().parent.parent / "seed" / "illustrations"


class Refused(Exception):
    """An upload that is not stored: the status and what to tell the person."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Stored:
    kind: str
    content_type: str
    file: str
    thumb: str | None
    bytes: int
    width: int | None = None
    height: int | None = None


def media_dir() -> Path:
    path = Path(current_app.config["MEDIA_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def temp_dir() -> Path:
    path = media_dir() / TEMP_DIR
    path.mkdir(exist_ok=True)
    return path


def check_quota(clinic_id: int, incoming: int) -> None:
    """`Refused` 413 when the clinic's stored media and this upload would be
    more than MEDIA_QUOTA_BYTES."""
    quota = current_app.config["MEDIA_QUOTA_BYTES"]
    used = db.session.scalar(
        select(func.coalesce(func.sum(ExerciseMedia.bytes), 0)).where(
            ExerciseMedia.clinic_id == clinic_id
        )
    )
    if used + incoming > quota:
        raise Refused(
            413,
            _(
                "Your clinic's pictures and videos already take %(used)s of its "
                "%(quota)s MB: delete some before uploading more.",
                used=f"{used / 2**20:.0f}",
                quota=f"{quota / 2**20:.0f}",
            ),
        )


def lock_exercise(exercise_id: int) -> None:
    """Hold the exercise until commit, so that two uploads at once count its
    pictures one after the other: its row locked on PostgreSQL; on SQLite a
    write takes the database's single write lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT id FROM exercises WHERE id = :id FOR UPDATE"),
            {"id": exercise_id},
        )
    else:
        db.session.execute(
            text("UPDATE exercises SET id = id WHERE id = :id"), {"id": exercise_id}
        )


def count_of_kind(clinic_id: int, exercise_id: int, kind: str) -> int:
    return db.session.scalar(
        select(func.count()).where(
            ExerciseMedia.clinic_id == clinic_id,
            ExerciseMedia.exercise_id == exercise_id,
            ExerciseMedia.kind == kind,
        )
    )


def size_of(stream) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _mime(stream) -> str | None:
    head = stream.read(8192)
    stream.seek(0)
    guessed = filetype.guess(head)
    return guessed.mime if guessed else None


def kind_of(stream) -> str | None:
    """ "image" or "video" by the file's content, or None."""
    mime = _mime(stream)
    return "image" if mime in IMAGE_TYPES else "video" if mime in VIDEO_TYPES else None


def store(stream) -> Stored:
    """Check an uploaded file and store it; `Refused` when it is not a
    picture or video this app accepts (then nothing is written)."""
    mime = _mime(stream)
    size = size_of(stream)
    if size == 0:
        raise Refused(422, _("The file is empty."))
    if mime in IMAGE_TYPES:
        limit = current_app.config["MAX_IMAGE_BYTES"]
        if size > limit:
            raise Refused(
                413, _("A picture may be at most %(mb)s MB.", mb=limit // 2**20)
            )
        with DECODING:
            return _store_image(stream, IMAGE_TYPES[mime])
    if mime in VIDEO_TYPES:
        limit = current_app.config["MAX_VIDEO_BYTES"]
        if size > limit:
            raise Refused(
                413, _("A video may be at most %(mb)s MB.", mb=limit // 2**20)
            )
        if not parses_as(VIDEO_TYPES[mime], stream):
            raise Refused(
                422,
                _("This video is damaged or incomplete: try exporting it again."),
            )
        return _store_video(stream, mime, size)
    raise Refused(
        415,
        _(
            "This file is not a picture (JPEG, PNG, WebP, HEIC) or a video (MP4, "
            "WebM). Files are recognised by what they contain, not by their name."
        ),
    )


def _too_many_pixels() -> Refused:
    return Refused(
        422,
        _(
            "This picture has too many pixels (at most %(millions)s million).",
            millions=MAX_PIXELS // 1_000_000,
        ),
    )


def _decode(stream, pil_format: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(stream, formats=[pil_format]) as probe:
                width, height = probe.size  # from the header: nothing decoded yet
                if width * height > MAX_PIXELS:
                    raise _too_many_pixels()
                probe.verify()  # structure and checksums, without decoding
            stream.seek(0)
            image = Image.open(stream, formats=[pil_format])
            image.load()  # every pixel: a truncated file fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise Refused(
                422,
                _("This picture is damaged or incomplete: try exporting it again."),
            ) from None
    return image


def _encoded(image: Image.Image, longest: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, "WEBP", quality=82, method=4)  # no exif=, no icc: none kept
    return buffer.getvalue()


def _store_image(stream, pil_format: str) -> Stored:
    image = ImageOps.exif_transpose(_decode(stream, pil_format))  # upright
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    large, small = _encoded(image, LARGE), _encoded(image, SMALL)
    with Image.open(io.BytesIO(large)) as stored:
        width, height = stored.size
    return Stored(
        kind="image",
        content_type="image/webp",
        file=_write(large, "webp"),
        thumb=_write(small, "webp"),
        bytes=len(large),
        width=width,
        height=height,
    )


def _write(data: bytes, extension: str) -> str:
    name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    target = media_dir() / name
    if not target.exists():
        with _temp_file() as temp:
            temp.write(data)
            temp.flush()
        os.replace(temp.name, target)  # whole or not at all
    return name


def _disk_full() -> Refused:
    return Refused(
        507,
        _(
            "The server's disk is full: the file was not stored. "
            "Tell your clinic's administrator."
        ),
    )


class _temp_file:
    """A file under MEDIA_DIR/tmp/; on any error it is removed, and a full
    disk becomes a 507 for the person uploading."""

    def __enter__(self):
        try:
            self.file = tempfile.NamedTemporaryFile(
                dir=temp_dir(), prefix="upload-", delete=False
            )
        except OSError as error:
            if error.errno in DISK_FULL:
                raise _disk_full() from None
            raise
        return self.file

    def __exit__(self, kind, error, trace):
        closing = None
        try:
            self.file.close()  # flushes: a full disk may show only here
        except OSError as failed:
            closing = failed
        error = error or closing
        if error is None:
            return False
        os.unlink(self.file.name)
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            raise _disk_full() from None
        if closing is not None:
            raise closing
        return False


def _store_video(stream, mime: str, size: int) -> Stored:
    digest = hashlib.sha256()
    folder = media_dir()
    with _temp_file() as temp:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            temp.write(chunk)
        temp.flush()
    name = f"{digest.hexdigest()}.{VIDEO_TYPES[mime]}"
    if (folder / name).exists():
        os.unlink(temp.name)
    else:
        os.replace(temp.name, folder / name)
    return Stored(kind="video", content_type=mime, file=name, thumb=None, bytes=size)


def leftovers(now: float | None = None) -> tuple[list[Path], list[Path]]:
    """(temp files older than an hour, stored files no row names that are
    older than an hour): what a crash or a race left in MEDIA_DIR."""
    now = now or time.time()
    folder = media_dir()
    stale = [
        path
        for path in sorted(temp_dir().iterdir())
        if now - path.stat().st_mtime > STALE
    ]
    files = {path.name: path for path in folder.iterdir() if path.is_file()}
    named = set(db.session.scalars(select(ExerciseMedia.file))) | set(
        db.session.scalars(
            select(ExerciseMedia.thumb).where(ExerciseMedia.thumb.is_not(None))
        )
    )
    db.session.commit()
    orphans = [
        path
        for name, path in sorted(files.items())
        if name not in named and now - path.stat().st_mtime > STALE
    ]
    return stale, orphans


def sweep() -> int:
    """Delete the leftovers; the number deleted."""
    stale, orphans = leftovers()
    for path in stale + orphans:
        path.unlink(missing_ok=True)
    return len(stale) + len(orphans)


def forget_files(names: set[str]) -> None:
    """Delete stored files that no media row names any more (after a replace
    or delete has committed). An upload of the very same file at the very
    same moment by another clinic could lose its file here: too rare to lock
    for; its row would then answer 404 until uploaded again."""
    if not names:
        return
    used = set(
        db.session.scalars(
            select(ExerciseMedia.file).where(ExerciseMedia.file.in_(names))
        )
    ) | set(
        db.session.scalars(
            select(ExerciseMedia.thumb).where(ExerciseMedia.thumb.in_(names))
        )
    )
    for name in names - used:
        (media_dir() / name).unlink(missing_ok=True)


def files_of(media: ExerciseMedia | Stored) -> set[str]:
    return {name for name in (media.file, media.thumb) if name}


def url(name: str | None) -> str | None:
    return f"/media/{name}" if name else None


# ---- what the clinic's users see ---------------------------------------------

# Only the clinic's own (the `clinic_id` parameter), pictures first
OF_THE_CLINIC = ExerciseMedia.clinic_id == bindparam("clinic_id")
ORDER = (ExerciseMedia.kind, ExerciseMedia.id)
_OF_EXERCISES = (
    select(ExerciseMedia)
    .where(
        OF_THE_CLINIC,
        ExerciseMedia.exercise_id.in_(bindparam("exercise_ids", expanding=True)),
    )
    .order_by(*ORDER)
)


def of_exercises(clinic_id: int, exercise_ids) -> dict[int, list[ExerciseMedia]]:
    """{exercise id: the clinic's media of it, pictures first}, in one query."""
    ids = sorted(set(exercise_ids))
    found: dict[int, list[ExerciseMedia]] = {}
    if not ids:
        return found
    params = {"clinic_id": clinic_id, "exercise_ids": ids}
    for media in db.session.scalars(_OF_EXERCISES, params):
        found.setdefault(media.exercise_id, []).append(media)
    return found


def attach(exercises, clinic_id: int) -> None:
    """Give each exercise (a model or a dict, as ExerciseSchema dumps them)
    its `media` for this clinic."""
    exercises = list(exercises)
    ids = [_get(exercise, "id") for exercise in exercises]
    media = of_exercises(clinic_id, ids)
    for exercise in exercises:
        _set(exercise, "media", media.get(_get(exercise, "id"), []))


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _set(obj, name, value):
    if isinstance(obj, dict):
        obj[name] = value
    else:
        setattr(obj, name, value)


def owns(clinic_id: int, name: str) -> bool:
    """Whether `name` is a file of one of this clinic's media."""
    return (
        db.session.scalar(
            select(ExerciseMedia.id)
            .where(
                ExerciseMedia.clinic_id == clinic_id,
                (ExerciseMedia.file == name) | (ExerciseMedia.thumb == name),
            )
            .limit(1)
        )
        is not None
    )


# ---- the shipped line drawings ------------------------------------------------


@cache
def _library() -> tuple[str, dict[str, str]]:
    """(version, {slug: alt text}) of the shipped illustrations."""
    digest = hashlib.sha256()
    for path in sorted(ILLUSTRATIONS.glob("*.svg")):
        digest.update(path.name.encode() + path.read_bytes())
    alt = json.loads((ILLUSTRATIONS / "alt.json").read_text(encoding="utf-8"))
    return digest.hexdigest()[:12], alt


def illustration(slug: str | None) -> dict | None:
    """{"url", "alt"} of a shipped exercise's line drawing, or None."""
    version, alt = _library()
    if not slug or slug not in alt:
        return None
    return {"url": f"/media/library/{version}/{slug}.svg", "alt": alt[slug]}


def illustration_path(slug: str | None) -> Path | None:
    """The SVG file of a shipped exercise (the handout embeds it)."""
    if not slug or slug not in _library()[1]:
        return None
    return ILLUSTRATIONS / f"{slug}.svg"


def library_version() -> str:
    return _library()[0]
