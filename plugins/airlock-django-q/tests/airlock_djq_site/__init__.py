"""A minimal Django project for the airlock-django-q integration tests.

It runs in subprocesses only (the cluster and the producer), so the test
process never configures Django and cannot clash with other test suites.
"""
