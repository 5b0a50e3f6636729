"""A real ORM broker bound to the ``unreachable`` database alias (a closed port)."""

from django_q.brokers.orm import ORM
from django_q.models import OrmQ


class UnreachableOrm(ORM):
    """django-q2's ORM broker, writing to the ``unreachable`` alias instead of ``Q_CLUSTER['orm']``."""

    @staticmethod
    def get_connection(list_key=None):
        return OrmQ.objects.using("unreachable")
