"""Real brokers that cannot reach their server: the ORM broker bound to the
``unreachable`` database alias, and the Redis broker at ``AIRLOCK_DJQ_DEAD_REDIS_PORT``
(both closed loopback ports)."""

import os

import redis
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.models import OrmQ


class UnreachableOrm(ORM):
    """django-q2's ORM broker, writing to the ``unreachable`` alias instead of ``Q_CLUSTER['orm']``."""

    @staticmethod
    def get_connection(list_key=None):
        return OrmQ.objects.using("unreachable")


class UnreachableRedis(Redis):
    """django-q2's Redis broker, with a client for a loopback port where nothing listens."""

    @staticmethod
    def get_connection(list_key=None):
        return redis.Redis(host="127.0.0.1", port=int(os.environ["AIRLOCK_DJQ_DEAD_REDIS_PORT"]))
