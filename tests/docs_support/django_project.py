"""``<!-- test: with django-project -->``: a Django project on SQLite with the airlock app and ``myapp``.

Settings: ``INSTALLED_APPS`` with ``"airlock.integrations.django"`` and the
reader's ``myapp`` (models ``Order``, ``Coupon``, ``Invoice``; tables made by
``migrate --run-syncdb``), ``AirlockMiddleware``, and no ``AIRLOCK`` setting
(so ``DjangoScope`` with the ``sync`` executor). After the block:

- every ``AirlockMiddleware`` subclass it defines handles requests answered
  with 200, 409 and 500, each view enqueueing one task, and that task runs
  exactly when the subclass's ``should_flush`` says so;
- every management command it defines is called;
- at least one of the reader's tasks ran, and none ran while a transaction
  was open: side effects waited for the commit.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.core.management import BaseCommand, call_command
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from . import execute


def start(**extra: Any) -> None:
    """Configure and start the project in the working directory; create its tables."""
    settings.configure(
        INSTALLED_APPS=["airlock.integrations.django", "myapp"],
        MIDDLEWARE=["airlock.integrations.django.AirlockMiddleware"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SECRET_KEY="docs-example",
        **extra,
    )
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


def check_outbox() -> None:
    """Something ran, and nothing ran inside a transaction."""
    from myapp.outbox import OUTBOX

    assert OUTBOX, "no task ran: the example proved nothing"
    early = [run for run in OUTBOX if run.in_transaction]
    assert not early, f"ran before the commit: {early}"


def run(code: str, path: str, line: int) -> None:
    start()
    namespace = execute(code, path, line)
    defined = [obj for obj in namespace.values() if isinstance(obj, type) and obj.__module__ == "__main__"]
    from airlock.integrations.django import AirlockMiddleware

    for cls in defined:
        if issubclass(cls, AirlockMiddleware):
            _exercise_middleware(cls)
        if issubclass(cls, BaseCommand):
            call_command(cls())
    check_outbox()


def _exercise_middleware(cls: type) -> None:
    from myapp.outbox import OUTBOX
    from myapp.tasks import send_receipt

    import airlock

    for status in (200, 409, 500):

        def view(request: HttpRequest, status: int = status) -> HttpResponse:
            airlock.enqueue(send_receipt, status)
            return HttpResponse(status=status)

        middleware = cls(view)
        request = RequestFactory().get("/")
        before = len(OUTBOX)
        response = middleware(request)
        ran = len(OUTBOX) > before
        expected = middleware.should_flush(request, response)
        assert ran == expected, f"{cls.__name__}: status {status}: ran {ran}, should_flush says {expected}"
