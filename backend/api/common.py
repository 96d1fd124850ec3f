"""Small helpers the views share: documented error responses, 422s, and the
answers to services/accounts.py's refusals."""

from http import HTTPStatus
from typing import NoReturn

from flask_babel import gettext as _
from flask_smorest import abort

from backend.extensions import db
from backend.models import User
from backend.services import accounts


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


def set_password(user: User, password: str, field: str) -> None:
    """services/accounts.py's `set_password` (the caller commits); 422 on
    `field`, with nothing changed, when it is too easy to guess."""
    try:
        accounts.set_password(user, password)
    except accounts.WeakPassword as weak:
        db.session.rollback()
        invalid(field, weak.reason)


def create_account(person: User, creator: User, invite: bool = True) -> dict:
    """services/accounts.py's `create_account`; 409 on `email` when it is in
    use at this clinic."""
    try:
        return accounts.create_account(person, creator, invite)
    except accounts.EmailTaken:
        abort(409, errors={"json": {"email": [_("This email is already in use.")]}})
