"""Celery integration (``LegacyTaskShim``, global intercept), provided by ``airlock-celery``."""

from airlock.integrations._compat import load

__all__ = ["LegacyTaskShim", "install_global_intercept", "uninstall_global_intercept"]

globals().update(load("airlock_celery.integration", "airlock-celery", tuple(__all__)))
