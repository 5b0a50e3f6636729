from django.urls import path

from . import views

urlpatterns = [
    path(f"{view.__name__}/<str:alias>/<str:name>/", view)
    for view in (
        views.create,
        views.create_then_raise,
        views.rolled_back,
        views.savepoints,
        views.one_fails,
        views.async_create,
        views.async_nested,
        views.celery_create,
    )
]
