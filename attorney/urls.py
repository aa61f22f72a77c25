from django.urls import path

from . import views

app_name = "attorney"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("ny/", views.create, name="create"),
    path("ny/bekraeft/", views.confirm, name="confirm"),
    path("handl-for/", views.act_for, name="act_for"),
    path("handl-for/stop/", views.stop_acting, name="stop_acting"),
    path("handl-for/ret/<str:right_code>/", views.use_right, name="use_right"),
    path("anmodning/", views.request_create, name="request_create"),
    path("anmodning/<uuid:request_id>/", views.request_answer, name="request_answer"),
    path("<uuid:mandate_id>/", views.detail, name="detail"),
    path("<uuid:mandate_id>/invitation/", views.invitation, name="invitation"),
    path("<uuid:mandate_id>/accepter/", views.accept, name="accept"),
    path("<uuid:mandate_id>/afvis/", views.decline, name="decline"),
    path("<uuid:mandate_id>/tilbagekald/", views.revoke, name="revoke"),
    path("<uuid:mandate_id>/fratraed/", views.resign, name="resign"),
    path("<uuid:mandate_id>/forny/", views.renew, name="renew"),
    path("<uuid:mandate_id>/aendr/", views.change, name="change"),
    path("<uuid:mandate_id>/adgangskoder/", views.access_code_create, name="access_code_create"),
    path(
        "<uuid:mandate_id>/adgangskoder/<uuid:code_id>/tilbagekald/",
        views.access_code_revoke,
        name="access_code_revoke",
    ),
]
