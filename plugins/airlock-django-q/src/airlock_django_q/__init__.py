"""airlock-django-q: dispatch airlock intents through django-q2.

Select it by name, ``airlock.scope(executor="django_q")``, or pass
:func:`django_q_executor` itself. It is also importable at the path airlock-py
used, ``airlock.integrations.executors.django_q``. Importing this package does
not import Django: django-q2 is loaded on the first dispatch.
"""

from ._executor import ASYNC_TASK_OPTIONS, django_q_executor

__all__ = ["ASYNC_TASK_OPTIONS", "django_q_executor"]
