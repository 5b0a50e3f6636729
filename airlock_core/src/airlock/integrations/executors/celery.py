"""``celery_executor``: dispatch through Celery, provided by the ``airlock-celery`` distribution."""

from airlock.integrations._compat import load

celery_executor = load("airlock_celery", "airlock-celery", "celery_executor")

__all__ = ["celery_executor"]
