"""Fixtures: Huey instances on real storage, and a real Huey consumer to run what airlock enqueued."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from huey import Huey, RedisHuey, SqliteHuey

from airlock.testing import require_service

#: Upper bound for any wait on the consumer; no test waits longer.
DEADLINE_SECONDS = 15.0


@dataclass
class Run:
    """One execution of a recording task, as the consumer saw it."""

    label: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    task_id: str
    priority: int | None
    at: float  # time.time() when the task body ran


@dataclass
class HueyRig:
    """A Huey instance, a recording task on it, and what that task saw."""

    huey: Huey
    runs: list[Run] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        rig = self

        @self.huey.task(context=True, name=f"record_{uuid.uuid4().hex[:8]}")
        def record(label: str, *args: Any, task: Any = None, **kwargs: Any) -> None:
            with rig._lock:
                rig.runs.append(Run(label, args, kwargs, task.id, task.priority, time.time()))

        self.record = record

    def labels(self) -> list[str]:
        with self._lock:
            return [run.label for run in self.runs]

    @contextlib.contextmanager
    def consumer(self, workers: int = 2) -> Iterator[None]:
        """Run a real Huey consumer (worker threads and scheduler) for the block.

        On exit it waits (bounded) until nothing is queued or scheduled, then
        stops the consumer gracefully so that in-flight tasks finish.
        """
        consumer = self.huey.create_consumer(
            workers=workers,
            periodic=False,
            initial_delay=0.02,
            max_delay=0.1,
            check_worker_health=False,
            shutdown_timeout=DEADLINE_SECONDS,
        )
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer.start()  # installs signal handlers in the main thread: restored below
        try:
            yield
            self.wait_until(lambda: self.huey.pending_count() == 0 and self.huey.scheduled_count() == 0)
        finally:
            consumer.stop(graceful=True)
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    def wait_for_runs(self, count: int) -> None:
        """Block until at least ``count`` runs were recorded (bounded)."""
        self.wait_until(lambda: len(self.runs) >= count)

    @staticmethod
    def wait_until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {DEADLINE_SECONDS}s")
            time.sleep(0.02)


def _sqlite_huey(tmp_path: Any) -> Huey:
    return SqliteHuey(name="airlock_test", filename=str(tmp_path / "huey.db"), results=False)


def _redis_huey(tmp_path: Any) -> Huey:
    url = require_service("redis")
    return RedisHuey(name=f"airlock_test_{uuid.uuid4().hex}", url=url, results=False)


BACKENDS = {"sqlite": _sqlite_huey, "redis": _redis_huey}


@pytest.fixture(params=sorted(BACKENDS))
def rig(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[HueyRig]:
    """A recording Huey rig on each real storage: SqliteHuey (temp file) and RedisHuey."""
    huey = BACKENDS[request.param](tmp_path)
    try:
        yield HueyRig(huey)
    finally:
        huey.storage.flush_all()  # the queue, schedule and results of this unique name


@pytest.fixture
def sqlite_rig(tmp_path: Any) -> HueyRig:
    """A recording rig on SqliteHuey only (the storage that supports priorities)."""
    return HueyRig(_sqlite_huey(tmp_path))


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
