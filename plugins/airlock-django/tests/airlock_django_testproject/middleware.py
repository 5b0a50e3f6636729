from airlock_django import AirlockMiddleware, DjangoScope


class KeepOnConflictMiddleware(AirlockMiddleware):
    """Also flushes on 409 Conflict."""

    def should_flush(self, request, response):
        return response.status_code < 400 or response.status_code == 409


class FollowTheDatabaseMiddleware(AirlockMiddleware):
    """Flushes whatever the status (ATOMIC_REQUESTS users leave the decision to the commit)."""

    def should_flush(self, request, response):
        return True


class BrokenDecisionMiddleware(AirlockMiddleware):
    """A should_flush that raises: the request's intents must be discarded, not left undecided."""

    def should_flush(self, request, response):
        raise RuntimeError("decision failed")


class AuditedScope(DjangoScope):
    """A scope class (``AIRLOCK["SCOPE"]``) that customises ``flush()``."""

    flushes: list[str] = []

    def flush(self):
        AuditedScope.flushes.append("flush")
        return super().flush()


class RedirectOnErrorMiddleware:
    """Turns a view's exception into a redirect, as a login-required middleware does on PermissionDenied."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import HttpResponseRedirect

        return HttpResponseRedirect("/login/")
