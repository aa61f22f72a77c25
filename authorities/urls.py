from django.urls import path

from portal.identity import verified_identity_required as verified

from . import views

# Every page here shows or changes something addressed to a CPR number: verified accounts only.

app_name = "authorities"

urlpatterns = [
    path("post/", verified(views.inbox), name="inbox"),
    path("post/<uuid:letter_id>/", verified(views.letter_detail), name="letter"),
    path("post/<uuid:letter_id>/bilag/", verified(views.letter_attachment), name="letter_attachment"),
    path("ansoegninger/", verified(views.application_list), name="applications"),
    path("ansoegninger/<uuid:application_id>/", verified(views.application_detail), name="application"),
    path("ansoegninger/ny/<slug:authority_slug>/<slug:service_slug>/", verified(views.apply), name="apply"),
    path("gjort-i-mit-navn/", verified(views.done_in_my_name), name="done_in_my_name"),
    path("gjort-for-andre/", verified(views.done_for_others), name="done_for_others"),
    path("samtykker/", verified(views.consents), name="consents"),
    path("samtykker/anmodning/<uuid:request_id>/", verified(views.consent_answer), name="consent_answer"),
    path(
        "samtykker/<uuid:consent_id>/tilbagekald/", verified(views.consent_withdraw), name="consent_withdraw"
    ),
]
