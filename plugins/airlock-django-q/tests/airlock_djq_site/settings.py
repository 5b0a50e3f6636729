"""Django settings: django-q2's ORM broker on the PostgreSQL database named by AIRLOCK_DJQ_DSN."""

import os

from psycopg.conninfo import conninfo_to_dict


def _database(dsn: str) -> dict:
    parts = conninfo_to_dict(dsn)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.get("dbname", ""),
        "USER": parts.get("user", ""),
        "PASSWORD": parts.get("password", ""),
        "HOST": parts.get("host", "127.0.0.1"),
        "PORT": str(parts.get("port", "5432")),
        # Bounded: an unreachable server is an error within seconds, not a hang.
        "OPTIONS": {"connect_timeout": 3},
    }


SECRET_KEY = "airlock-django-q-tests"
USE_TZ = True
INSTALLED_APPS = ["django_q"]
DATABASES = {
    "default": _database(os.environ["AIRLOCK_DJQ_DSN"]),
    # The same server at a port where nothing listens (AIRLOCK_DJQ_DEAD_DSN).
    "unreachable": _database(os.environ.get("AIRLOCK_DJQ_DEAD_DSN", os.environ["AIRLOCK_DJQ_DSN"])),
}
Q_CLUSTER = {
    "name": "airlock_djq",
    "orm": "default",
    "workers": 2,
    "timeout": 20,
    "retry": 30,
    "max_attempts": 1,
    "poll": 0.05,
    "catch_up": False,
    "log_level": "WARNING",
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
