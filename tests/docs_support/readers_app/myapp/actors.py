"""The reader's Dramatiq actors; the docs setup sets the broker before this module is imported."""

from __future__ import annotations

import dramatiq

from myapp.outbox import record


@dramatiq.actor
def send_email(user_id: int, subject: str = "") -> None:
    record("send_email", user_id, subject=subject)
