"""The reader's plain functions, queued by django-q2 in the examples."""

from __future__ import annotations

from myapp.outbox import record


def send_welcome_email(user_id: int, template: str = "welcome") -> None:
    record("send_welcome_email", user_id, template=template)
