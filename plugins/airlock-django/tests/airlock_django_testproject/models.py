from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        app_label = "airlock_django_testproject"
