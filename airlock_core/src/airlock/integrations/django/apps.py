"""The Django app config for ``"airlock.integrations.django"`` in INSTALLED_APPS."""

from airlock.integrations._compat import load

__all__ = ["AirlockConfig"]

AirlockConfig = load("airlock_django.apps", "airlock-django", "AirlockConfig")
