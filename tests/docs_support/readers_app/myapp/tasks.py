"""The reader's Celery tasks, as the examples import them."""

from __future__ import annotations

from myapp.celery import app
from myapp.outbox import record


@app.task
def send_email(user_id: int, subject: str = "") -> None:
    record("send_email", user_id, subject=subject)


@app.task
def send_welcome_email(user_id: int) -> None:
    record("send_welcome_email", user_id)


@app.task
def send_receipt(order_id: int) -> None:
    record("send_receipt", order_id)


@app.task
def charge_card(order_id: int) -> None:
    record("charge_card", order_id)


@app.task
def notify_marketing(order_id: int) -> None:
    record("notify_marketing", order_id)


@app.task
def email_invoice(invoice_id: int) -> None:
    from myapp.models import Invoice

    Invoice.objects.get(pk=invoice_id)  # a receipt for a row the task can see: committed
    record("email_invoice", invoice_id)


@app.task
def email_receipt(invoice_id: int) -> None:
    from myapp.models import Invoice

    if not Invoice.objects.get(pk=invoice_id).settled:
        raise ValueError(f"invoice {invoice_id} is not settled: the receipt ran before the commit")
    record("email_receipt", invoice_id)
