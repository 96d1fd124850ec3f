"""Checks every request passes before anything else looks at it (OWASP API4,
ASVS V2.2.1, V5.2.1): bad input is refused with a clear 4xx and changes
nothing. They run first, before the rate limiter's key functions and the
CSRF check read the body.

- A body sent to the API is JSON (`Content-Type: application/json`), else
  415; the endpoints that take a file upload are named in `FILE_ENDPOINTS`.
- JSON nested more than `MAX_DEPTH` levels is a 400 (Python's parser
  recurses, and so would anything walking the data).
- Text may not hold NUL or other control characters (a tab or a line break
  is fine; fields that must be one line say so in their schema): 422. A sync
  is the exception: its records are judged one by one (their schemas refuse
  control characters too), so one bad record never holds back the others.
- Ids in paths are positive database integers (`IdConverter`): anything else
  is a 404 before any query runs.

Whatever else reads the body (a rate limiter's key, the audit trail) reads it
through `json_body`, which never raises, even after the guard refused it.
"""

import re

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_smorest import abort
from werkzeug.routing import IntegerConverter

from backend.schemas.common import MAX_ID

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DEPTH = 32
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# endpoints that take a multipart upload (a picture or video of an exercise)
FILE_ENDPOINTS = {"exercises.upload_media", "exercises.replace_media"}
RECORDS_JUDGED_ONE_BY_ONE = {"logs.sync"}


def _walk(data) -> tuple[int, str | None]:
    """(nesting depth, path of the first text with a control character)."""
    deepest, found = 0, None
    stack = [(data, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if found is None and CONTROL.search(value):
                found = path or "_schema"
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest, found
        for key, item in items:
            where = f"{path}.{key}" if path else str(key)
            if found is None and isinstance(key, str) and CONTROL.search(key):
                found = where
            stack.append((item, depth + 1, where))
    return deepest, found


def _body_is_json() -> bool:
    return request.mimetype == "application/json" or request.mimetype.endswith("+json")


def check_request():
    if request.endpoint in FILE_ENDPOINTS:  # a video may be larger than JSON
        request.max_content_length = current_app.config["MAX_VIDEO_BYTES"] + 2**20
        # a part whose name cannot be read comes back named None, which the
        # CSRF check (it looks through the form's names) cannot take
        if None in request.form or None in request.files:
            abort(400, message=_("Every part of the form needs a name."))
    if request.path.startswith("/api/") and request.method in BODY_METHODS:
        has_body = bool(request.content_length) or bool(request.get_data(cache=True))
        if has_body and not _body_is_json() and request.endpoint not in FILE_ENDPOINTS:
            abort(415, message=_("Send JSON, with Content-Type: application/json."))
    for name, values in request.args.lists():
        if any(CONTROL.search(text) for text in (name, *values)):
            _refuse_control_characters("query", name)
    if request.is_json and request.content_length:
        try:
            data = request.get_json()
        except RecursionError:
            _refuse_depth()
        depth, in_body = _walk(data)
        if depth > MAX_DEPTH:
            _refuse_depth()
        if in_body is not None and request.endpoint not in RECORDS_JUDGED_ONE_BY_ONE:
            _refuse_control_characters("json", in_body)


def json_body():
    """The request's JSON body, or None when there is none or it could not be
    read (malformed, or too deep: then the guard has already answered 400)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # silent covers only malformed JSON
        return None


def _refuse_depth():
    message = _("JSON may be nested at most %(levels)s levels deep.", levels=MAX_DEPTH)
    abort(400, message=message)


def _refuse_control_characters(location: str, where: str):
    abort(422, errors={location: {where: [_("Control characters are not allowed.")]}})


def init_app(app: Flask) -> None:
    """Register the checks: call before any extension that reads requests."""
    app.before_request(check_request)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 1 to 2**31 - 1, else the route does not
    match (404), so no id a database integer cannot hold reaches a query."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_parameter(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
