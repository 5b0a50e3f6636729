"""``<!-- test: with django-q-project -->``: a Django project with django-q2, its ORM broker on SQLite.

After the block, what it queued is taken off the broker and run by
django-q2's own cluster functions (``pusher``, ``worker``, ``monitor``, in
this process instead of the cluster's child processes): every queued task
must run successfully and leave a successful ``Task`` row, and the queue
must end empty. A block that queues nothing fails: it proved nothing.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading

import django
from django.conf import settings
from django.core.management import call_command

from . import execute


def run(code: str, path: str, line: int) -> None:
    settings.configure(
        INSTALLED_APPS=["django_q"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        Q_CLUSTER={"name": "docs", "orm": "default", "timeout": 10, "retry": 20},
        SECRET_KEY="docs-example",
    )
    django.setup()
    call_command("migrate", verbosity=0)
    from django_q.brokers import get_broker
    from django_q.models import Task
    from django_q.monitor import monitor
    from django_q.pusher import pusher
    from django_q.worker import worker

    execute(code, path, line)

    broker = get_broker()
    queued = broker.queue_size()
    assert queued, "the example queued no task: it proved nothing"
    tasks: queue.Queue[object] = queue.Queue()
    results: queue.Queue[object] = queue.Queue()
    done = threading.Event()
    done.set()  # the pusher makes one pass over the broker per call
    while broker.queue_size():
        pusher(tasks, done, broker)
    tasks.put("STOP")
    worker(tasks, results, multiprocessing.Value("f", -1))
    results.put("STOP")
    monitor(results, broker)

    ran = list(Task.objects.values_list("func", "success", "result"))
    assert len(ran) == queued and all(success for _, success, _ in ran), ran
    assert broker.queue_size() == 0
