"""Web Push: the VAPID key pair and sending a notification to a user's devices.

- The key: VAPID_PRIVATE_KEY (base64url) when set, else the file VAPID_FILE
  (instance/vapid.json) that `flask vapid-keys` writes; without either, push
  is off and `push` says so. A new key means every phone subscribes again.
- `push` posts the message (encrypted, by pywebpush) to each of the user's
  subscriptions. A subscription the push service no longer knows (404, 410)
  is deleted; any other failure is returned for the caller to retry.
- The server only ever posts to push services named in PUSH_ENDPOINT_ALLOW,
  never to an address a client chose.

Reminders and nudges (services/reminders.py) and message notices
(services/notices.py) send through it; the worker (backend/worker.py) runs
the reminders. Links in a message are paths of the PWA; mail's links come
from backend/links.py.
"""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select

from backend.extensions import db
from backend.models import PushSubscription


@dataclass
class Message:
    """What the service worker (frontend/sw.js) shows: a notification's title
    and body, the page a tap opens, and a tag (one per kind replaces the last)."""

    title: str
    body: str
    url: str = "/#/today"
    tag: str = "homeward-reminder"


# ---- keys -------------------------------------------------------------------


def private_key() -> str | None:
    """The VAPID private key (base64url): VAPID_PRIVATE_KEY, else the one
    `flask vapid-keys` wrote; None when push is off."""
    configured = current_app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        return configured
    path = Path(current_app.config["VAPID_FILE"])
    if path.is_file():
        return json.loads(path.read_text())["private_key"]
    return None


def public_key() -> str | None:
    """The applicationServerKey browsers subscribe with (base64url), or None."""
    key = private_key()
    return _public_of(Vapid.from_string(key)) if key else None


def _public_of(vapid: Vapid) -> str:
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generate_keys(path: Path) -> str:
    """A new VAPID key pair in `path` (private, 0600); returns the public key."""
    vapid = Vapid()
    vapid.generate_keys()
    number = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    private = base64.urlsafe_b64encode(number).rstrip(b"=").decode()
    public = _public_of(vapid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"private_key": private, "public_key": public}))
    path.chmod(0o600)
    return public


def available() -> bool:
    """Whether this server can push (it has a VAPID key)."""
    return private_key() is not None


# ---- subscriptions -------------------------------------------------------------


def endpoint_allowed(endpoint: str) -> bool:
    """Only push services named in PUSH_ENDPOINT_ALLOW: the server never posts
    to an address a client chose."""
    return any(
        endpoint.startswith(p) for p in current_app.config["PUSH_ENDPOINT_ALLOW"]
    )


def subscriptions(user_id: int) -> list[PushSubscription]:
    """The user's devices that turned notifications on."""
    return list(
        db.session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == user_id)
        )
    )


# ---- sending -------------------------------------------------------------------


def push(user_id: int, message: Message, ttl: int) -> tuple[bool, str | None]:
    """Push `message` to each of the user's devices: (any device took it, the
    last problem). A subscription the push service no longer knows (404,
    410) is deleted and is no problem; no device at all is (False, None).
    `ttl`: seconds the push service may hold it for a phone that is off."""
    key = private_key()
    if key is None:
        return False, "push is off on this server (no VAPID key)"
    payload = json.dumps({name: str(value) for name, value in vars(message).items()})
    delivered, problem, gone = False, None, []
    for subscription in subscriptions(user_id):
        try:
            webpush(
                {
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=payload,
                vapid_private_key=key,
                vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
                ttl=ttl,
                headers={"Urgency": "normal"},
                timeout=current_app.config["PUSH_TIMEOUT"],
            )
            delivered = True
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in (404, 410):
                gone.append(subscription.id)
            else:
                problem = f"push service answered {status or error}"
        except Exception as error:  # the network: refused, timed out, reset
            problem = f"push service unreachable ({type(error).__name__})"
    if gone:
        db.session.execute(
            delete(PushSubscription).where(PushSubscription.id.in_(gone))
        )
        db.session.commit()
    return delivered, problem
