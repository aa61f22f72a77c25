from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import data_uses, log, views

app_name = "api"

urlpatterns = [
    path("decisions", views.decision_view, name="decisions"),
    path("decisions/batch", views.decision_batch_view, name="decisions_batch"),
    path("powers-of-attorney", views.PowerOfAttorneyListView.as_view(), name="powers_of_attorney"),
    path("letters", views.LetterView.as_view(), name="letters"),
    path("consent-requests", views.ConsentRequestView.as_view(), name="consent_requests"),
    path("consents/check", views.ConsentCheckView.as_view(), name="consent_check"),
    path("data-uses", data_uses.DataUseView.as_view(), name="data_uses"),
    path("data-uses/batch", data_uses.DataUseBatchView.as_view(), name="data_uses_batch"),
    path("webhook", views.WebhookView.as_view(), name="webhook"),
    path("events", views.EventFeedView.as_view(), name="events"),
    path("log/checkpoint", log.CheckpointView.as_view(), name="log_checkpoint"),
    path("log/key", log.VerifierKeyView.as_view(), name="log_key"),
    path("log/proof/inclusion", log.InclusionProofView.as_view(), name="log_inclusion"),
    path("log/proof/consistency", log.ConsistencyProofView.as_view(), name="log_consistency"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
