from django.urls import path

from portal.identity import verified_identity_required as verified

from . import emergency_views, views

# Every page here shows or changes something addressed to a CPR number: verified accounts only.

app_name = "attorney"

urlpatterns = [
    path("", verified(views.overview), name="overview"),
    path("ny/", verified(views.create), name="create"),
    path("ny/bekraeft/", verified(views.confirm), name="confirm"),
    path("handl-for/", verified(views.act_for), name="act_for"),
    path("handl-for/stop/", verified(views.stop_acting), name="stop_acting"),
    path("handl-for/ret/<str:right_code>/", verified(views.use_right), name="use_right"),
    path("anmodning/", verified(views.request_create), name="request_create"),
    path("akut/", verified(emergency_views.emergency_request_create), name="emergency_create"),
    path("akut/<uuid:emergency_id>/", verified(emergency_views.emergency_detail), name="emergency"),
    path(
        "akut/<uuid:emergency_id>/svar/", verified(emergency_views.emergency_answer), name="emergency_answer"
    ),
    path("anmodning/<uuid:request_id>/", verified(views.request_answer), name="request_answer"),
    path("<uuid:mandate_id>/", verified(views.detail), name="detail"),
    path("<uuid:mandate_id>/invitation/", verified(views.invitation), name="invitation"),
    path("<uuid:mandate_id>/accepter/", verified(views.accept), name="accept"),
    path("<uuid:mandate_id>/afvis/", verified(views.decline), name="decline"),
    path("<uuid:mandate_id>/tilbagekald/", verified(views.revoke), name="revoke"),
    path("<uuid:mandate_id>/fratraed/", verified(views.resign), name="resign"),
    path("<uuid:mandate_id>/forny/", verified(views.renew), name="renew"),
    path("<uuid:mandate_id>/aendr/", verified(views.change), name="change"),
    path("<uuid:mandate_id>/adgangskoder/", verified(views.access_code_create), name="access_code_create"),
    path(
        "<uuid:mandate_id>/adgangskoder/<uuid:code_id>/tilbagekald/",
        verified(views.access_code_revoke),
        name="access_code_revoke",
    ),
]
