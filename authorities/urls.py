from django.urls import path

from portal.identity import verified_identity_required as verified

from .applications import views as applications
from .consent import views as consent
from .datause import views as datause
from .history import views as history
from .post import views as post
from .start import views as start

# Every page here shows or changes something addressed to a CPR number: verified accounts only.

app_name = "authorities"

urlpatterns = [
    path("overblik/", verified(start.start), name="start"),
    path("post/", verified(post.inbox), name="inbox"),
    path("post/<uuid:letter_id>/", verified(post.letter_detail), name="letter"),
    path("post/<uuid:letter_id>/bilag/", verified(post.letter_attachment), name="letter_attachment"),
    path("ansoegninger/", verified(applications.application_list), name="applications"),
    path(
        "ansoegninger/<uuid:application_id>/", verified(applications.application_detail), name="application"
    ),
    path(
        "ansoegninger/<uuid:application_id>/godkend/",
        verified(applications.application_approve),
        name="application_approve",
    ),
    path(
        "ansoegninger/<uuid:application_id>/stop/",
        verified(applications.application_stop),
        name="application_stop",
    ),
    path(
        "ansoegninger/ny/<slug:authority_slug>/<slug:service_slug>/",
        verified(applications.apply),
        name="apply",
    ),
    path("gjort-i-mit-navn/", verified(history.done_in_my_name), name="done_in_my_name"),
    path("gjort-for-andre/", verified(history.done_for_others), name="done_for_others"),
    path("samtykker/", verified(consent.consents), name="consents"),
    path("samtykker/anmodning/<uuid:request_id>/", verified(consent.consent_answer), name="consent_answer"),
    path("samtykker/<uuid:consent_id>/", verified(datause.consent_detail), name="consent"),
    path("brug-af-mine-data/", verified(datause.data_uses), name="data_uses"),
    path("brug-af-mine-data/eksport.json", verified(datause.export_json), name="data_use_export_json"),
    path(
        "brug-af-mine-data/eksport/<slug:kind>.csv", verified(datause.export_csv), name="data_use_export_csv"
    ),
    path(
        "samtykker/<uuid:consent_id>/tilbagekald/",
        verified(consent.consent_withdraw),
        name="consent_withdraw",
    ),
]
