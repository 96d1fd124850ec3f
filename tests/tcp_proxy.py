"""A TCP proxy on 127.0.0.1 that a test switches to cut a dependency off.

Modes, switchable at any time:
- "pass": bytes flow both ways;
- "refuse": nothing listens on the port (a connection is refused at once), and
  the connections open until now are closed, as when the server goes away;
- "drop": a black hole. New connections are accepted but never forwarded nor
  answered; open ones are frozen (no byte passes either way, nothing is
  closed), or closed with `existing="close"`. A userspace proxy's kernel still
  acknowledges what the app sends, so the kernel's own timeouts for a frozen
  connection (tcp_user_timeout) never fire here: only the app's own
  connect and read timeouts end the wait.
"""

import contextlib
import selectors
import socket
import threading

MODES = ("pass", "refuse", "drop")


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.accepted = 0  # connections the proxy took, in any mode
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._frozen = False
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def url_for(self, url: str) -> str:
        """`url` (a database or Redis URL on the target) through the proxy."""
        host, port = self.target
        return url.replace(f"{host}:{port}", f"127.0.0.1:{self.port}", 1)

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.1)
        return listener

    def set_mode(self, mode: str, existing: str = "freeze") -> None:
        """Switch to `mode`; for "drop", `existing` connections "freeze" or "close"."""
        assert mode in MODES and existing in ("freeze", "close"), (mode, existing)
        with self._lock:
            if mode == "refuse" and self._listener is not None:
                self._stop_listening()
            elif mode != "refuse" and self._listener is None:
                self._listener = self._listen(self.port)
            if mode == "refuse" or (mode == "drop" and existing == "close"):
                self._close_pairs()
            if mode == "pass":  # the black hole's held connections end
                held = [pair for pair in self._pairs if pair[1] is None]
                self._pairs = [pair for pair in self._pairs if pair[1] is not None]
                for client, _none in held:
                    client.close()
            self._frozen = mode == "drop"
            self.mode = mode

    def _stop_listening(self) -> None:
        """Refuse from now on. The accept loop may be waiting on the listener
        (up to 0.1 s): a close alone would leave the kernel listening (and
        completing handshakes it then resets) until that wait ends; a
        shutdown stops it at once."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None

    def _close_pairs(self) -> None:
        for pair in self._pairs:
            for end in pair:
                if end is not None:
                    with contextlib.suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)
                    end.close()
        self._pairs = []

    def _accept_loop(self) -> None:
        while not self._closed:
            with self._lock:
                listener = self._listener
            if listener is None:
                threading.Event().wait(0.05)
                continue
            try:
                client, _address = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.setblocking(True)
            with self._lock:
                self.accepted += 1
                mode = self.mode
            if mode == "drop":
                with self._lock:
                    self._pairs.append((client, None))  # held, never answered
                continue
            if mode == "refuse":
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(
                target=self._pump, args=(client, upstream), daemon=True
            ).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copies bytes both ways until either end closes; frozen, copies none."""
        selector = selectors.DefaultSelector()
        try:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while not self._closed:
                if self._frozen:
                    if client.fileno() < 0 or upstream.fileno() < 0:
                        return
                    threading.Event().wait(0.05)
                    continue
                for key, _events in selector.select(timeout=0.1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            if self._listener is not None:
                self._stop_listening()
            self._close_pairs()
        self._thread.join(timeout=2)
