from django.urls import path

from . import views

app_name = "authorities"

urlpatterns = [
    path("post/", views.inbox, name="inbox"),
    path("post/<uuid:letter_id>/", views.letter_detail, name="letter"),
    path("post/<uuid:letter_id>/bilag/", views.letter_attachment, name="letter_attachment"),
    path("ansoegninger/", views.application_list, name="applications"),
    path("ansoegninger/<uuid:application_id>/", views.application_detail, name="application"),
    path("ansoegninger/ny/<slug:authority_slug>/<slug:service_slug>/", views.apply, name="apply"),
    path("gjort-i-mit-navn/", views.done_in_my_name, name="done_in_my_name"),
    path("gjort-for-andre/", views.done_for_others, name="done_for_others"),
    path("samtykker/", views.consents, name="consents"),
    path("samtykker/anmodning/<uuid:request_id>/", views.consent_answer, name="consent_answer"),
    path("samtykker/<uuid:consent_id>/tilbagekald/", views.consent_withdraw, name="consent_withdraw"),
]
