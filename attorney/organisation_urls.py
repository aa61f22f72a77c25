from django.urls import path

from portal.identity import verified_identity_required as verified

from . import organisation_views as views

# Every page here concerns people's powers of attorney: verified accounts only.

app_name = "organisations"

urlpatterns = [
    path("", verified(views.overview), name="overview"),
    path("<int:organisation_id>/", verified(views.detail), name="detail"),
    path("<int:organisation_id>/inviter/", verified(views.invite), name="invite"),
    path("<int:organisation_id>/medlemmer/<uuid:membership_id>/", verified(views.member), name="member"),
    path(
        "<int:organisation_id>/medlemmer/<uuid:membership_id>/afslut/",
        verified(views.end_membership),
        name="end_membership",
    ),
    path("<int:organisation_id>/fuldmagter/<uuid:mandate_id>/", verified(views.mandate), name="mandate"),
    path(
        "<int:organisation_id>/fuldmagter/<uuid:mandate_id>/accepter/", verified(views.accept), name="accept"
    ),
    path(
        "<int:organisation_id>/fuldmagter/<uuid:mandate_id>/afvis/", verified(views.decline), name="decline"
    ),
    path(
        "<int:organisation_id>/fuldmagter/<uuid:mandate_id>/fratraed/", verified(views.resign), name="resign"
    ),
    path("<int:organisation_id>/adgang/", verified(views.give_access), name="give_access"),
    path(
        "<int:organisation_id>/adgang/<uuid:access_id>/fjern/",
        verified(views.remove_access),
        name="remove_access",
    ),
    path("invitation/<str:code>/", verified(views.join), name="join"),
]
