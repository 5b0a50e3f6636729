"""``django_tasks_executor``: dispatch through Django tasks, provided by the ``airlock-django`` distribution."""

from airlock.integrations._compat import load

django_tasks_executor = load("airlock_django", "airlock-django", "django_tasks_executor")

__all__ = ["django_tasks_executor"]
