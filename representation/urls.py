from django.urls import path

from portal.identity import verified_identity_required as verified

from . import views

app_name = "representation"

urlpatterns = [
    path("", verified(views.overview), name="overview"),
]
