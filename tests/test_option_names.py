"""Installing a middleware plugin never takes a backend's own publish option.

A consumed airlock option is removed from ``dispatch_options`` before the
executor sees the intent. If a plugin declared one under a name a backend
also uses (Huey's ``retry_backoff``, say), installing that plugin would
silently take the option away from the backend. Runs in the workspace, where
every plugin and backend is installed.
"""

from __future__ import annotations

import inspect

import airlock

#: apply_async options Celery documents (it takes them as **options).
CELERY_OPTIONS = {
    "countdown", "eta", "expires", "retry", "retry_policy", "queue", "exchange", "routing_key", "priority",
    "serializer", "compression", "headers", "link", "link_error", "shadow", "task_id", "time_limit",
    "soft_time_limit", "ignore_result", "add_to_parent", "producer", "connection", "publisher", "router",
}  # fmt: skip


def backend_option_names() -> dict[str, set[str]]:
    from airlock_django_q import ASYNC_TASK_OPTIONS
    from dramatiq.brokers.stub import StubBroker
    from huey.api import TaskWrapper

    huey = set(inspect.signature(TaskWrapper.schedule).parameters) - {"self", "args", "kwargs"}
    broker = StubBroker()
    dramatiq = set(broker.actor_options) | {"delay"}
    broker.close()
    return {"celery": CELERY_OPTIONS, "dramatiq": dramatiq, "huey": huey, "django_q": set(ASYNC_TASK_OPTIONS)}


def test_no_consumed_airlock_option_has_the_name_of_a_backend_option() -> None:
    consumed = {o.name: info.name for info in airlock.plugins.plugin_infos() for o in info.options if o.consumed}
    assert consumed, "the installed plugins declare consumed options"
    clashes = {
        backend: sorted(names & set(consumed))
        for backend, names in backend_option_names().items()
        if names & set(consumed)
    }
    assert clashes == {}, f"consumed airlock options named like backend options: {clashes} (declared by {consumed})"
