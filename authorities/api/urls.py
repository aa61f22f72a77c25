from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("decisions", views.DecisionView.as_view(), name="decisions"),
    path("decisions/batch", views.DecisionBatchView.as_view(), name="decisions_batch"),
    path("powers-of-attorney", views.PowerOfAttorneyListView.as_view(), name="powers_of_attorney"),
    path("letters", views.LetterView.as_view(), name="letters"),
    path("consent-requests", views.ConsentRequestView.as_view(), name="consent_requests"),
    path("consents/check", views.ConsentCheckView.as_view(), name="consent_check"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
