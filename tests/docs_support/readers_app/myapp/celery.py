"""The reader's Celery app; the docs setup points it at the test Redis before an example runs."""

from celery import Celery

app = Celery("myapp")
