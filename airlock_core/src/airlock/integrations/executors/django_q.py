"""``django_q_executor``: dispatch through django-q2, provided by the ``airlock-django-q`` distribution."""

from airlock.integrations._compat import load

django_q_executor = load("airlock_django_q", "airlock-django-q", "django_q_executor")

__all__ = ["django_q_executor"]
