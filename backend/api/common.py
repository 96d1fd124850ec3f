"""Small helpers the views share: documented error responses and 422s."""

from http import HTTPStatus
from typing import NoReturn

from flask_smorest import abort


def documents(blp, *codes: int):
    """Document the error responses a view really gives (401, 403, 404, 409 ...)."""

    def decorate(view):
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def invalid(field: str, message: str, location: str = "json") -> NoReturn:
    """Reject input the schema could not judge alone (needs the database or a date)."""
    abort(422, errors={location: {field: [message]}})
