"""Compatible import paths for executors (airlock-py 0.1 layout).

Each module re-exports the executor from the distribution that provides it,
or raises ImportError naming the distribution to install. New code can
select executors by name instead: ``airlock.scope(executor="celery")``.
"""
