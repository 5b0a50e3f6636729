"""A small Django project for the airlock-django tests, configured here.

Databases: ``default`` and ``other`` are SQLite files; ``postgres`` is the
PostgreSQL service (``AIRLOCK_TEST_POSTGRES_DSN``), present only when it is
reachable: its tests then call ``require_service("postgres")``, which skips
locally and fails under ``CI=true``.

Tests run with real commits, like Django's ``TransactionTestCase``:
``on_commit`` callbacks only fire when a transaction really commits, which
the rolled-back ``TestCase`` never does. The fixtures use Django's own test
utilities rather than pytest-django, so this suite configures Django without
touching how any other suite sharing the process runs pytest.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import django
import pytest
from django.conf import settings

import airlock
from airlock.testing import reachable, service_url

sys.path.insert(0, str(Path(__file__).parent))  # the test project's package

#: Tests of this plugin together with another plugin. ``make test-plugin``
#: runs this suite where only airlock-core and airlock-django are installed
#: (and says so in ``AIRLOCK_TEST_PLUGIN_ALONE``); they run in the workspace run.
collect_ignore = ["test_django_celery_e2e.py"] if os.environ.get("AIRLOCK_TEST_PLUGIN_ALONE") else []

#: Django's own tasks framework (Django >= 6), else the django-tasks backport.
TASKS_PACKAGE = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"


def _postgres() -> dict[str, object]:
    url = urlsplit(service_url("postgres"))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": (url.path or "/test").lstrip("/") or "test",
        "USER": unquote(url.username or "postgres"),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "127.0.0.1",
        "PORT": str(url.port or 5432),
        "TEST": {"NAME": f"test_airlock_django_{os.getpid()}"},
    }


def _settings() -> dict[str, object]:
    files = Path(tempfile.mkdtemp(prefix="airlock-django-tests-"))
    databases: dict[str, dict[str, object]] = {
        alias: {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(files / f"{alias}.sqlite3"),
            "TEST": {"NAME": str(files / f"test_{alias}.sqlite3")},
        }
        for alias in ("default", "other")
    }
    if reachable(service_url("postgres"), 5432) is None:
        databases["postgres"] = _postgres()
    return {
        "DEBUG": False,
        "SECRET_KEY": "airlock-django-tests",
        "ALLOWED_HOSTS": ["testserver"],
        "USE_TZ": True,
        "DATABASES": databases,
        "INSTALLED_APPS": [
            "airlock.integrations.django",
            *(["django_tasks"] if TASKS_PACKAGE == "django_tasks" else []),  # the backport is an app
            "airlock_django_testproject",
            "migrating_app",
        ],
        "MIDDLEWARE": ["airlock.integrations.django.AirlockMiddleware"],
        "ROOT_URLCONF": "airlock_django_testproject.urls",
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "AIRLOCK": {},
        "TASKS": {
            "default": {"BACKEND": f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"},
            "dummy": {"BACKEND": f"{TASKS_PACKAGE}.backends.dummy.DummyBackend", "QUEUES": ["default", "q1"]},
        },
    }


if settings.configured:  # another suite configured Django in this process first
    raise pytest.UsageError(
        "airlock-django's tests need their own Django settings, but Django is already configured in this "
        "process. Run them in a process of their own: make test-plugin PLUGIN=airlock-django"
    )
settings.configure(**_settings())
django.setup()
# The app has just configured airlock globally from settings.AIRLOCK. Other suites
# may share this process: keep that configuration to this suite's tests.
airlock.reset_configuration()


@pytest.fixture(scope="session", autouse=True)
def test_databases() -> Iterator[None]:
    """Django's test environment and a fresh test database per alias, for the whole session."""
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    created = setup_databases(verbosity=0, interactive=False, aliases=set(settings.DATABASES))
    yield
    teardown_databases(created, verbosity=0)
    teardown_test_environment()


@pytest.fixture
def real_commits() -> Iterator[None]:
    """Every database holds no Thing when the test ends, whatever it committed."""
    from airlock_django_testproject.models import Thing

    yield
    for alias in settings.DATABASES:
        Thing.objects.using(alias).all().delete()


@pytest.fixture(autouse=True)
def airlock_from_settings() -> Iterator[None]:
    """The configuration the app makes from ``settings.AIRLOCK``, for this test only."""
    from airlock_django.conf import configure_from_settings

    configure_from_settings()
    yield
    airlock.reset_configuration()


@pytest.fixture(params=["default", "postgres"], ids=["sqlite", "postgres"])
def alias(request: pytest.FixtureRequest) -> str:
    """A database alias to test against; the scopes follow its transactions."""
    from airlock.testing import require_service

    if request.param == "postgres":
        require_service("postgres")
    airlock.configure(scope_kwargs={"using": request.param})  # airlock_from_settings resets it
    return request.param


@pytest.fixture(autouse=True)
def probe() -> Iterator[list[tuple[str, bool]]]:
    """What the test project's tasks saw, in the order they ran."""
    from airlock_django_testproject import tasks

    tasks.RESULTS.clear()
    yield tasks.RESULTS
    tasks.RESULTS.clear()
