"""The media files themselves: a clinic's uploads, to that clinic's signed-in
users only, and the shipped line drawings. Names are content-addressed, so
both are cached for a year; video answers byte ranges (206) for seeking."""

from flask import Blueprint, abort, send_from_directory
from flask_login import current_user

from backend.services import media

bp = Blueprint("media", __name__, url_prefix="/media")

YEAR = 365 * 24 * 3600


@bp.get("/<name>")
def clinic_file(name: str):
    """A file of one of the signed-in user's clinic's media; else 404 (401
    when signed out), never telling whether it exists elsewhere."""
    if not current_user.is_authenticated:
        abort(401)
    if not media.owns(current_user.clinic_id, name):
        abort(404)
    response = send_from_directory(
        media.media_dir(), name, conditional=True, max_age=YEAR
    )
    response.headers["Cache-Control"] = f"private, max-age={YEAR}, immutable"
    return response


@bp.get("/library/<version>/<slug>.svg")
def illustration(version: str, slug: str):
    """A shipped exercise's line drawing (the library is the same for all)."""
    path = media.illustration_path(slug)
    if path is None:
        abort(404)
    response = send_from_directory(
        path.parent, path.name, mimetype="image/svg+xml", max_age=YEAR
    )
    # read the (small) file now: Flask-Compress would otherwise never close it
    response.direct_passthrough = False
    response.make_sequence()
    if version == media.library_version():
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:  # an older page: today's drawing, not pinned
        response.headers["Cache-Control"] = "no-cache"
    # an SVG opened on its own runs nothing and loads nothing
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    return response
