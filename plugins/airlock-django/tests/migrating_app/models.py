from django.db import models


class Backfilled(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        app_label = "migrating_app"
