"""Flask's signed-cookie sessions, with the signing serializer built once.

Flask builds a new `URLSafeTimedSerializer` twice for every request (to open
the session and to save it), and building one serialises an empty dict to
probe the serializer. The serializer holds nothing but the keys, the salt and
the digest settings, so one per set of keys serves every request; a rotated
`SECRET_KEY` or `SECRET_KEY_FALLBACKS` gets a new one.
"""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSigningSessionInterface(SecureCookieSessionInterface):
    _cached: tuple = ((), None)  # (the keys, their serializer)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached_keys, serializer = self._cached
        if cached_keys != keys:
            serializer = super().get_signing_serializer(app)
            self._cached = (keys, serializer)  # one assignment: safe across threads
        return serializer
