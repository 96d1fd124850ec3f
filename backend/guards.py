"""Checks every request passes before any view sees it (OWASP API4, ASVS V2):
bad input is refused with a clear 4xx and changes nothing.

- Text may not hold NUL or other control characters (a tab or a line break
  is fine; fields that must be one line say so in their schema). PostgreSQL
  cannot store NUL at all, and nothing a person types contains the others.
"""

import re

from flask import Flask, request
from flask_smorest import abort

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_characters(value, path: str) -> str | None:
    """The path of the first string holding a control character, or None."""
    if isinstance(value, str):
        return path if CONTROL.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and CONTROL.search(key):
            return f"{path}.{key!r}"
        found = _control_characters(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def refuse_control_characters():
    where = _control_characters(request.args.to_dict(flat=False), "")
    location = "query"
    if where is None and request.is_json:
        where = _control_characters(request.get_json(silent=True), "")
        location = "json"
    if where is not None:
        abort(
            422,
            errors={
                location: {where or "_schema": ["Control characters are not allowed."]}
            },
        )


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)
