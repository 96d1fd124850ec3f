"""A stand-in for a browser's push service, on a free port of 127.0.0.1, for
the reminder tests: it takes what pywebpush posts, checks the VAPID JWT's
signature against the key it names (and that key against the app's), checks
the claims, decrypts the aes128gcm payload with the subscription's private
key (made here, as a browser would) and keeps the text. Each subscription's
answer can be set (201, 410, 500 ...)."""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Browser:
    """One browser's subscription: its keys, as the browser would hold them."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64encode(point), "auth": b64encode(self.auth)},
        }


@dataclass
class Received:
    path: str
    payload: dict
    ttl: int
    urgency: str | None
    claims: dict


class PushService:
    """`deliver`, when given, is called before `received` is read (from the
    test's thread): the app's tests pass one run of the worker's push and
    reminders tasks, as the running worker would have done by then."""

    def __init__(self, vapid_public_key: str, deliver=None):
        self.vapid_public_key = vapid_public_key
        self.deliver = deliver
        self.arrived_so_far: list[Received] = []  # without a worker's run
        self.refused: list[str] = []  # why a request was not accepted
        self.answers: dict[str, int] = {}  # path → status to answer
        # set `holding`: a push arrives (`arrived` is set) and gets no answer
        # until `holding` is cleared, as a stalled push service would
        self.holding = threading.Event()
        self.arrived = threading.Event()
        self.browsers: dict[str, Browser] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def browser(self, name: str) -> Browser:
        """A new subscription at /push/<name> of this service."""
        made = Browser(f"{self.url}/push/{name}")
        self.browsers[f"/push/{name}"] = made
        return made

    @property
    def received(self) -> list[Received]:
        if self.deliver is not None:
            self.deliver()
        return self.arrived_so_far

    def texts(self) -> list[str]:
        return [r.payload["body"] for r in self.received]

    def _verify(self, path: str, headers, body: bytes) -> Received:
        scheme, _, params = headers.get("Authorization", "").partition(" ")
        assert scheme == "vapid", f"authorization scheme {scheme!r}"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key, "not the app's VAPID key"
        header_b64, claims_b64, signature_b64 = parts["t"].split(".")
        assert json.loads(b64decode(header_b64))["alg"] == "ES256"
        signature = b64decode(signature_b64)
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64decode(parts["k"])
        )
        key.verify(  # raises InvalidSignature
            encode_dss_signature(
                int.from_bytes(signature[:32], "big"),
                int.from_bytes(signature[32:], "big"),
            ),
            f"{header_b64}.{claims_b64}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
        claims = json.loads(b64decode(claims_b64))
        assert claims["aud"] == self.url, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith("mailto:"), claims
        assert headers.get("Content-Encoding") == "aes128gcm"
        browser = self.browsers[path]
        text = http_ece.decrypt(
            body,
            private_key=browser.private_key,
            auth_secret=browser.auth,
            version="aes128gcm",
        )
        return Received(
            path=path,
            payload=json.loads(text),
            ttl=int(headers.get("TTL", "0")),
            urgency=headers.get("Urgency"),
            claims=claims,
        )

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if service.holding.is_set():
                    service.arrived.set()
                    while service.holding.is_set():
                        time.sleep(0.05)
                    return  # the sender is gone: nothing was delivered
                status = service.answers.get(self.path, 201)
                try:
                    received = service._verify(self.path, self.headers, body)
                except Exception as error:  # a bad request: kept for the test to see
                    with service.lock:
                        service.refused.append(f"{type(error).__name__}: {error}")
                    status = 400
                else:
                    if status < 300:
                        with service.lock:
                            service.arrived_so_far.append(received)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
