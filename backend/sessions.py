"""Flask's signed-cookie sessions, signed and verified less wastefully.

- Flask builds a new `URLSafeTimedSerializer` twice for every request (to open
  the session and to save it), and building one serialises an empty dict to
  probe the serializer. The serializer holds nothing but the keys, the salt
  and the digest settings, so one per set of keys serves every request; a
  rotated `SECRET_KEY` or `SECRET_KEY_FALLBACKS` gets a new one.
- Checking a cookie's signature (two HMACs, one of them re-deriving the key)
  is most of what opening a session costs, and a browser sends the same
  cookie on every request. The signature of a cookie string is therefore
  checked once per set of keys and the result remembered (a bounded LRU):
  the payload that was signed and when. Everything else is done on every
  request as Flask does it: the age against `PERMANENT_SESSION_LIFETIME`
  (an old cookie is refused even if it was once verified), and decoding the
  payload into a fresh session. A cookie that fails the check is never
  remembered, so a forged one costs the full check every time.
"""

from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

VERIFIED_COOKIES = 4096  # per worker process: the signed-in devices it serves


def _signature_checker(serializer: URLSafeTimedSerializer):
    """cookie → (its signed payload, when it was signed), or BadSignature."""

    @lru_cache(maxsize=VERIFIED_COOKIES)
    def verified(cookie: str) -> tuple[bytes, datetime]:
        error = BadSignature("no key")
        for signer in serializer.iter_unsigners():  # the current key first
            try:
                return signer.unsign(cookie, return_timestamp=True)
            except BadSignature as failure:
                error = failure
        raise error

    return verified


class CachedSigningSessionInterface(SecureCookieSessionInterface):
    _cached: tuple = ((), None, None)  # (the keys, their serializer, its checker)

    def _for_keys(self, app: Flask) -> tuple:
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached = self._cached
        if cached[0] != keys:
            serializer = super().get_signing_serializer(app)
            cached = (keys, serializer, _signature_checker(serializer))
            self._cached = cached  # one assignment: safe across threads
        return cached

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        return self._for_keys(app)[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        _keys, serializer, verified = self._for_keys(app)
        try:
            payload, signed_at = verified(cookie)
            age = (datetime.now(UTC) - signed_at).total_seconds()
            if not 0 <= age <= app.permanent_session_lifetime.total_seconds():
                return self.session_class()  # expired, or signed in the future
            return self.session_class(serializer.load_payload(payload))
        except BadSignature:
            return self.session_class()
