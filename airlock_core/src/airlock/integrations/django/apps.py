"""The Django app config for ``"airlock.integrations.django"`` in INSTALLED_APPS."""

from airlock.integrations._compat import load

__all__ = ["AirlockConfig"]

globals().update(load("airlock_django.apps", "airlock-django", tuple(__all__)))
