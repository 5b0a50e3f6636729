from airlock_django import AirlockMiddleware


class KeepOnConflictMiddleware(AirlockMiddleware):
    """Also flushes on 409 Conflict."""

    def should_flush(self, request, response):
        return response.status_code < 400 or response.status_code == 409
