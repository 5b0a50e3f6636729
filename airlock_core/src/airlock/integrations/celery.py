"""Celery integration (``LegacyTaskShim``, global intercept), provided by ``airlock-celery``."""

from airlock.integrations._compat import load

__all__ = ["LegacyTaskShim", "install_global_intercept", "uninstall_global_intercept"]

LegacyTaskShim, install_global_intercept, uninstall_global_intercept = load(
    "airlock_celery.integration", "airlock-celery", *__all__
)
