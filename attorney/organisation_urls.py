from django.urls import path

from portal.identity import verified_identity_required as verified

from . import organisation_views as views

# Every page here concerns people's powers of attorney: verified accounts only.

app_name = "organisations"

urlpatterns = [
    path("", verified(views.overview), name="overview"),
    path("<int:organisation_id>/", verified(views.detail), name="detail"),
    path("invitation/<str:code>/", verified(views.join), name="join"),
]
