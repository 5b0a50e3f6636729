"""Fixtures: a throwaway PostgreSQL database, a real django-q2 cluster (``qcluster``) on it,
and a producer that flushes airlock scopes through the django_q executor.

Django runs only in subprocesses configured by ``airlock_djq_site.settings``: the
test process itself never configures Django, so this suite cannot collide with
another suite's Django settings in the same pytest run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from airlock.testing import require_service

HERE = Path(__file__).resolve().parent
#: Upper bound for any wait on a subprocess or on the cluster; no test waits longer.
DEADLINE_SECONDS = 30.0


class Site:
    """The test project's database and how to run its Django commands."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
        env["DJANGO_SETTINGS_MODULE"] = "airlock_djq_site.settings"
        env["AIRLOCK_DJQ_DSN"] = self.dsn
        env.update(extra)
        return env

    def django(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env(),
            check=True,
            timeout=DEADLINE_SECONDS,
            capture_output=True,
        )

    def produce(self, scenario: str, **env: str) -> dict[str, Any]:
        """Run one producer flush in a subprocess; its report, as a dict."""
        done = subprocess.run(
            [sys.executable, "-m", "airlock_djq_site.produce", scenario, uuid.uuid4().hex[:8]],
            env=self.env(**env),
            timeout=DEADLINE_SECONDS,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql)

    def runs(self) -> list[tuple[str, Any, Any, int]]:
        """Every recorded execution: (label, args, kwargs, pid), in insertion order."""
        return [tuple(row) for row in self.query("select label, args, kwargs, pid from airlock_run order by id")]

    def wait_until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {DEADLINE_SECONDS}s; runs so far: {self.runs()}")
            time.sleep(0.05)

    def settle(self, expected_runs: int) -> None:
        """Wait until ``expected_runs`` rows exist and the broker holds nothing more to deliver."""
        self.wait_until(
            lambda: (
                self.query("select count(*) from airlock_run")[0][0] >= expected_runs
                and self.query("select count(*) from django_q_ormq")[0][0] == 0
            )
        )


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """A fresh PostgreSQL database with django-q2's tables, dropped afterwards."""
    admin_dsn = require_service("postgres")
    name = f"airlock_djq_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    site = Site(make_conninfo(admin_dsn, dbname=name))
    try:
        site.django("migrate", "--noinput")
        site.execute(
            "create table airlock_run (id serial primary key, label text not null,"
            " args jsonb not null, kwargs jsonb not null, pid integer not null)"
        )
        yield site
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def cluster(site: Site) -> Iterator[subprocess.Popen[bytes]]:
    """A real django-q2 cluster (``manage.py qcluster``) consuming the site's ORM broker."""
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "qcluster"],
        env=site.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # the cluster stops gracefully on SIGTERM
        try:
            process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def djq(site: Site, cluster: subprocess.Popen[bytes]) -> Site:
    """The site with a running cluster and an empty execution record."""
    assert cluster.poll() is None, "the django-q2 cluster exited early"
    site.execute("truncate airlock_run")
    return site


@pytest.fixture
def closed_port_dsn(site: Site) -> str:
    """The site's DSN, but at a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return make_conninfo(site.dsn, host="127.0.0.1", port=str(port))
