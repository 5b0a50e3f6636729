"""airlock's pytest plugin, for the tests of code that uses airlock.

Installed with airlock-core and loaded by pytest through the ``pytest11``
entry point; disable it with ``-p no:airlock``.

Fixtures:

- ``airlock_capture``: the test runs inside a capturing scope; returns a
  :class:`airlock.testing.Captured` with ``assert_enqueued(...)`` and friends
  and ``run(executor)`` to dispatch what was captured.
- ``airlock_plugin``: ``airlock_plugin(obj)`` registers an inline hook plugin,
  always unregistered after the test.
- ``airlock_executor``: ``airlock_executor(name, fn)`` registers an executor by
  name, always unregistered after the test.
- ``airlock_config``: ``airlock_config(**kwargs)`` calls ``airlock.configure``;
  the configuration in effect before the test is restored after it.
- ``airlock_outage``: ``airlock_outage("redis")`` puts the real service behind
  an :class:`airlock.testing.OutageProxy` that is up; ``proxy.url`` reaches
  the service through it and ``proxy.down()`` loses it.

Marker:

- ``@pytest.mark.airlock_no_effects``: the test fails on any side effect.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

import airlock
from airlock.testing import Captured, OutageProxy, capture, no_effects, require_service

__all__ = [
    "airlock_capture",
    "airlock_plugin",
    "airlock_executor",
    "airlock_disable_plugins",
    "airlock_config",
    "airlock_outage",
]

NO_EFFECTS = "airlock_no_effects"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{NO_EFFECTS}: fail the test if its code enqueues any airlock side effect, "
        "directly or through a nested scope that flushes",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run tests marked ``airlock_no_effects`` inside :func:`airlock.testing.no_effects`."""
    if item.get_closest_marker(NO_EFFECTS) is None:
        return (yield)
    guard = no_effects(f"in a test marked {NO_EFFECTS}")
    try:
        with guard:
            return (yield)
    except AssertionError as error:
        if error is not guard.error:
            raise
        # Swallowed by the code under test: no traceback of ours would help.
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def airlock_capture() -> Iterator[Captured]:
    """Run the test inside a capturing scope; returns what it captured.

    The scope is the outermost one, so it holds every intent the code
    enqueues, including those that nested scopes (a request's scope, a
    ``DjangoScope``) flush. Nothing is dispatched unless the test calls
    ``airlock_capture.run()``; the rest is discarded after the test.
    """
    with capture() as captured:
        yield captured


@pytest.fixture
def airlock_plugin() -> Iterator[Callable[..., str]]:
    """``airlock_plugin(obj, name=None)`` registers a hook plugin for this test only; returns its name."""
    from airlock import plugins

    names: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        registered = plugins.register(plugin, name)
        names.append(registered)
        return registered

    yield register
    for name in reversed(names):
        plugins.unregister(name=name)


@pytest.fixture
def airlock_executor() -> Iterator[Callable[[str, Any], None]]:
    """``airlock_executor(name, fn)`` makes ``fn`` selectable as ``name`` for this test only.

    A name that was registered before the test gets its previous executor back.
    """
    from airlock import executors

    previous: dict[str, Any] = {}

    def register(name: str, executor: Any) -> None:
        if name not in previous:
            previous[name] = executors._registered.get(name)
        airlock.register_executor(name, executor)

    yield register
    for name, executor in previous.items():
        if executor is None:
            airlock.unregister_executor(name)
        else:
            airlock.register_executor(name, executor)


@pytest.fixture
def airlock_disable_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``airlock_disable_plugins("retry", ...)``: the rest of the test runs as if
    those entry-point plugins were not installed (``AIRLOCK_DISABLE_PLUGINS``).

    For plugin authors proving that installing a plugin changes nothing for
    code that does not enable it. Plugins are loaded again after the test;
    plugins registered at run time (``airlock.plugins.register``, e.g. in a
    ``conftest.py``) stay registered throughout.
    """
    from airlock import plugins

    disabled = False
    registered = [
        (info.name, plugins.get_plugin_manager().get_plugin(info.name))
        for info in plugins.plugin_infos()
        if info.entry_point == plugins._RUN_TIME
    ]

    def reload_keeping_registered() -> None:
        plugins.reload()  # entry points are read again on next use; run-time registrations are dropped
        for name, plugin in registered:
            plugins.register(plugin, name)

    def disable(*names: str) -> None:
        nonlocal disabled
        monkeypatch.setenv("AIRLOCK_DISABLE_PLUGINS", ",".join(names))
        reload_keeping_registered()
        disabled = True

    yield disable
    if disabled:
        monkeypatch.undo()
        reload_keeping_registered()


@pytest.fixture
def airlock_config() -> Iterator[Callable[..., None]]:
    """``airlock_config(**kwargs)`` is ``airlock.configure`` for this test only.

    Whatever ``airlock.configure()`` state was in effect before the test (for
    example set once in a ``conftest.py``) is restored after it, even if the
    test changed it by other means.
    """
    saved = airlock.get_configuration()
    yield airlock.configure
    airlock.reset_configuration()
    airlock.configure(
        scope_cls=saved["scope_cls"],
        policy=saved["policy"],
        executor=saved["executor"],
        scope_kwargs=saved["scope_kwargs"] or None,
        **saved["options"],
    )


@pytest.fixture
def airlock_outage() -> Iterator[Callable[[str], OutageProxy]]:
    """``airlock_outage("redis" | "amqp" | "postgres")``: that real service
    (:func:`airlock.testing.require_service`: skipped when missing, failed
    under ``CI=true``) behind an :class:`airlock.testing.OutageProxy` that is
    up. Point the code under test at ``proxy.url``; ``proxy.down()`` loses the
    service, ``proxy.up()`` brings it back. Every proxy is taken down after
    the test.
    """
    proxies: list[OutageProxy] = []

    def outage(kind: str) -> OutageProxy:
        proxy = OutageProxy(require_service(kind))
        proxies.append(proxy)
        proxy.up()
        return proxy

    yield outage
    for proxy in proxies:
        proxy.down()
