"""Django integration for airlock (distribution ``airlock-django``).

Also importable at its compatible path ``airlock.integrations.django``;
add ``"airlock.integrations.django"`` to ``INSTALLED_APPS``.

- :class:`DjangoScope`: dispatch after ``transaction.on_commit``, savepoint-aware.
- :class:`AirlockMiddleware`: one scope per request (WSGI and ASGI).
- ``get_setting``, ``get_policy``, ``get_executor``, ``get_scope_class``:
  read the ``AIRLOCK`` setting.
- :func:`django_tasks_executor`: the ``django_tasks`` executor.
"""

from .conf import get_executor, get_policy, get_scope_class, get_setting
from .middleware import AirlockMiddleware
from .scope import DjangoScope
from .tasks_executor import django_tasks_executor

__all__ = [
    "DjangoScope",
    "AirlockMiddleware",
    "get_setting",
    "get_policy",
    "get_executor",
    "get_scope_class",
    "django_tasks_executor",
]
