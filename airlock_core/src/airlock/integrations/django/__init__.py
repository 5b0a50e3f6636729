"""Django integration, provided by the ``airlock-django`` distribution.

Add ``"airlock.integrations.django"`` to ``INSTALLED_APPS``; see airlock-django.
"""

from airlock.integrations._compat import load

__all__ = [
    "DjangoScope",
    "AirlockMiddleware",
    "get_setting",
    "get_policy",
    "get_executor",
    "get_scope_class",
]

DjangoScope, AirlockMiddleware, get_setting, get_policy, get_executor, get_scope_class = load(
    "airlock_django", "airlock-django", *__all__
)
