"""The reader's models, for the Django examples (tables made by ``migrate --run-syncdb``)."""

from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Coupon(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class Invoice(models.Model):
    total = models.IntegerField()
    settled = models.BooleanField(default=False)

    def settle(self) -> None:
        self.settled = True
        self.save(update_fields=["settled"])
