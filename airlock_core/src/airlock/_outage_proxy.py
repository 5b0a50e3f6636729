"""``OutageProxy``: lose a real service at will, to test what happens when a broker goes away.

A TCP proxy on 127.0.0.1 in front of a real service (Redis, RabbitMQ, ...).
While it is *down* nothing listens on its port, so clients get a real
"connection refused"; :meth:`OutageProxy.up` starts forwarding to the
service, and :meth:`OutageProxy.down` cuts every forwarded connection, as a
broker that went away would. :meth:`OutageProxy.stall` keeps connections
open but lets nothing through, as a broker that stopped answering (a
stopped process, a network partition) does. :meth:`OutageProxy.lose_next_reply`
loses one answer: the service performs the next request, its reply never
arrives. Point the client under test at ``proxy.port``, or, for a proxy made
from the service's URL, at ``proxy.url``. Public as ``airlock.testing.OutageProxy``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from functools import partial
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

__all__ = ["OutageProxy"]

_CHUNK = 65536
#: The port a service URL without one means, by scheme.
DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "postgresql": 5432, "postgres": 5432}


class OutageProxy:
    """A port that refuses connections until :meth:`up`, then forwards them.

    :param target: ``(host, port)`` of the real service, or its URL
        (``redis://:secret@127.0.0.1:6379/0``); then :attr:`url` is that URL
        pointing at the proxy, credentials, path and query kept (else None).
        A URL without a port needs a scheme of :data:`DEFAULT_PORTS`.

    :attr:`port` is a free port picked when the proxy is made; it stays the
    same across :meth:`up` and :meth:`down` (while down, nothing of ours
    holds it). Use it as a context manager; leaving the block closes the
    listener and every forwarded connection and joins the threads (bounded
    by ``timeout`` seconds each). Not for production traffic: one thread per
    direction.
    """

    def __init__(self, target: tuple[str, int] | str, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.port = _free_port()
        self.url: str | None = None
        if isinstance(target, str):
            self.target, self.url = _target_and_proxied(target, self.port)
        else:
            self.target = target
        self.connections = 0
        #: How many replies :meth:`lose_next_reply` has lost so far.
        self.replies_lost = 0
        self._lose_reply: bytes | None = None
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()  # cleared by stall(): the pumps hold what they read
        self._flowing.set()

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    @property
    def is_stalled(self) -> bool:
        return not self._flowing.is_set()

    def up(self) -> None:
        """Start listening on :attr:`port` and forwarding each connection to the
        target; after :meth:`stall`, let the held traffic through again."""
        self._flowing.set()
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        self._spawn(self._accept, listener)

    def down(self) -> None:
        """Stop listening and cut every forwarded connection; new connections are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)
        self._flowing.set()  # stalled pumps wake up to closed sockets and end
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(self.timeout)

    def stall(self) -> None:
        """Stop answering: connections stay open and new ones are accepted, but
        nothing passes either way until :meth:`up` (or :meth:`down` cuts them)."""
        self._flowing.clear()

    def lose_next_reply(self, containing: bytes = b"") -> None:
        """Lose the answer to the next request any client sends (the next one
        whose bytes contain ``containing``, e.g. ``b"EVALSHA"``): it reaches the
        service, whose reply is dropped, and that connection is then cut (a
        write the service performed, whose acknowledgement never came back)."""
        self._lose_reply = containing

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by down()
                return
            try:
                server = socket.create_connection(self.target, timeout=self.timeout)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # down() ran meanwhile: this one must not outlive it
                    _close(client)
                    _close(server)
                    return
                self._open.update((client, server))
                self.connections += 1
                replies = _Replies()
                pumps = [
                    self._thread(_pump, client, server, partial(self._forward_request, server, replies), self._flowing),
                    self._thread(_pump, server, client, partial(_forward_reply, client, replies), self._flowing),
                ]
            for thread in pumps:
                thread.start()

    def _spawn(self, target: object, *args: object) -> None:
        with self._lock:
            thread = self._thread(target, *args)
        thread.start()

    def _thread(self, target: object, *args: object) -> threading.Thread:
        """A thread that down() will join; the caller holds the lock and starts it."""
        thread = threading.Thread(target=target, args=args, name="airlock-outage-proxy", daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        return thread

    def _forward_request(self, server: socket.socket, replies: _Replies, data: bytes) -> bool:
        """Send a client's bytes on to the service; False ends the connection
        (after a request whose reply :meth:`lose_next_reply` loses)."""
        marker = self._lose_reply
        if marker is None or marker not in data:
            server.sendall(data)
            return True
        self._lose_reply = None
        replies.dropped = True  # before the service can answer: see _forward_reply
        server.sendall(data)
        time.sleep(_LOSS_GRACE)  # the service performs it; its reply goes nowhere
        self.replies_lost += 1
        return False

    def __enter__(self) -> OutageProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.down()

    def __repr__(self) -> str:
        state = "up" if self.is_up else "down"
        return f"<OutageProxy 127.0.0.1:{self.port} -> {self.target[0]}:{self.target[1]} {state}>"


def _target_and_proxied(url: str, port: int) -> tuple[tuple[str, int], str]:
    """The service's ``(host, port)`` from ``url``, and ``url`` pointing at 127.0.0.1:``port`` instead."""
    parts = urlsplit(url)
    target_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    if target_port is None:
        raise ValueError(f"OutageProxy({url!r}): no port in the URL and none known for {parts.scheme!r}; give one")
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return (parts.hostname or "127.0.0.1", target_port), urlunsplit(parts._replace(netloc=netloc))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Replies:
    """One forwarded connection's reply direction: dropped once a reply is to be lost."""

    __slots__ = ("dropped",)

    def __init__(self) -> None:
        self.dropped = False


def _forward_reply(client: socket.socket, replies: _Replies, data: bytes) -> bool:
    """Send the service's bytes on to the client, unless its replies are being dropped."""
    if not replies.dropped:
        client.sendall(data)
    return True


def _pump(
    source: socket.socket, sink: socket.socket, forward: Callable[[bytes], bool], flowing: threading.Event
) -> None:
    """Hand what ``source`` sends to ``forward`` (once ``flowing`` is set) until
    either side closes or it returns False; then close both."""
    try:
        while data := source.recv(_CHUNK):
            flowing.wait()
            if not forward(data):
                break
    except OSError:
        pass  # either side closed: the connection is over
    finally:
        _close(source)
        _close(sink)


#: How long a request whose reply is lost gets to reach the service before the connection is cut.
_LOSS_GRACE = 0.2


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
