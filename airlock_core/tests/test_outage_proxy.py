"""``airlock.testing.OutageProxy`` in front of a real (loopback echo) TCP service."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from airlock.testing import OutageProxy


@pytest.fixture
def echo_service() -> Iterator[tuple[str, int]]:
    """A TCP server on loopback that sends back whatever it receives, one thread per client."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve(client: socket.socket) -> None:
        with client:
            try:
                while data := client.recv(4096):
                    client.sendall(data)
            except OSError:
                pass

    def accept() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()
    server.close()


def connect(proxy: OutageProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=2)


def echo(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    return sock.recv(4096)


def test_refuses_until_up_then_forwards(echo_service: tuple[str, int]) -> None:
    with OutageProxy(echo_service) as proxy:
        assert not proxy.is_up and "down" in repr(proxy)
        with pytest.raises(ConnectionRefusedError):
            connect(proxy)
        proxy.up()
        assert proxy.is_up and "up" in repr(proxy)
        with connect(proxy) as sock:
            assert echo(sock, b"ping") == b"ping"
        assert proxy.connections == 1


def test_down_cuts_open_connections_and_refuses_new_ones(echo_service: tuple[str, int]) -> None:
    with OutageProxy(echo_service) as proxy:
        proxy.up()
        sock = connect(proxy)
        assert echo(sock, b"before") == b"before"
        proxy.down()
        with sock:
            try:
                cut = sock.recv(4096) == b""  # the proxy closed its end: end of stream
            except ConnectionResetError:
                cut = True
        assert cut
        with pytest.raises(ConnectionRefusedError):
            connect(proxy)
        proxy.up()  # back, on the same port
        with connect(proxy) as again:
            assert echo(again, b"after") == b"after"


def test_leaving_the_block_takes_it_down(echo_service: tuple[str, int]) -> None:
    with OutageProxy(echo_service) as proxy:
        proxy.up()
        connect(proxy).close()
    assert not proxy.is_up
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)


def test_made_from_a_url_it_gives_the_url_through_the_proxy() -> None:
    proxy = OutageProxy("redis://:secret@10.0.0.7:6380/2?ssl=false")
    assert proxy.target == ("10.0.0.7", 6380)
    assert proxy.url == f"redis://:secret@127.0.0.1:{proxy.port}/2?ssl=false"
    assert OutageProxy("amqp://guest:guest@localhost//").target == ("localhost", 5672)
    assert OutageProxy(("127.0.0.1", 6379)).url is None
    with pytest.raises(ValueError, match="no port in the URL"):
        OutageProxy("nats://127.0.0.1")


def test_the_airlock_outage_fixture_loses_a_real_service(airlock_outage) -> None:  # type: ignore[no-untyped-def]
    """Redis answers PING through the proxy until ``down()`` (raw RESP, no client library needed)."""
    proxy = airlock_outage("redis")
    assert proxy.is_up and proxy.url.startswith("redis://") and f":{proxy.port}" in proxy.url
    with connect(proxy) as sock:
        assert echo(sock, b"PING\r\n") == b"+PONG\r\n"
    proxy.down()
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)


def test_a_lost_reply_reaches_the_service_but_never_the_client(airlock_outage) -> None:  # type: ignore[no-untyped-def]
    """INCR through the proxy: Redis performs it, the client gets no answer and
    loses the connection; the next connection works and sees the write."""
    proxy = airlock_outage("redis")
    key = f"airlock-outage-lost-reply-{id(proxy)}".encode()
    with connect(proxy) as sock:
        assert echo(sock, b"DEL " + key + b"\r\n") in (b":0\r\n", b":1\r\n")
        proxy.lose_next_reply()
        sock.sendall(b"INCR " + key + b"\r\n")
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            answer = b""
        assert answer == b""
    assert proxy.replies_lost == 1
    with connect(proxy) as again:
        assert echo(again, b"GET " + key + b"\r\n") == b"$1\r\n1\r\n"
        echo(again, b"DEL " + key + b"\r\n")


def test_a_stalled_service_keeps_the_connection_but_never_answers_until_up(echo_service: tuple[str, int]) -> None:
    with OutageProxy(echo_service) as proxy:
        proxy.up()
        with connect(proxy) as sock:
            assert echo(sock, b"before") == b"before"
            proxy.stall()
            assert proxy.is_stalled
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                echo(sock, b"held")
            sock.settimeout(2)
            proxy.up()  # what was held goes through
            assert not proxy.is_stalled and sock.recv(4096) == b"held"
        proxy.stall()
        stalled = connect(proxy)  # new connections are accepted while stalled
    with stalled:  # leaving the block cut it, stalled or not
        stalled.settimeout(2)
        try:
            assert stalled.recv(4096) == b""
        except ConnectionResetError:
            pass


def test_reachable_reads_urls_key_value_dsns_and_unix_sockets(echo_service: tuple[str, int], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from airlock.testing import reachable

    host, port = echo_service
    assert reachable(f"redis://{host}:{port}/0", 6379) is None
    assert reachable(f"host={host} port={port} dbname=test user=postgres", 5432) is None
    closed = OutageProxy(echo_service).port  # never up: nothing listens there
    assert "unreachable" in str(reachable(f"host={host} port={closed} dbname=test", 5432))
    assert "cannot read an address" in str(reachable("redis://127.0.0.1:notaport/0", 6379))
    path = str(tmp_path / "service.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(1)
        assert reachable(f"unix://{path}", 6379) is None
        assert reachable(f"host={tmp_path} port=5432", 5432) is not None  # a directory: .s.PGSQL.5432 is missing
    assert "unreachable" in str(reachable(f"unix://{tmp_path}/missing.sock", 6379))


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_a_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch, ci: str, echo_service) -> None:  # type: ignore[no-untyped-def]
    from airlock.testing import require_service

    monkeypatch.setenv("AIRLOCK_TEST_REDIS_URL", f"redis://127.0.0.1:{OutageProxy(echo_service).port}/0")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI=true: a missing service fails the run"):
        require_service("redis")
