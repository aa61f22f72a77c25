from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from attorney import views as attorney_views
from authorities.history import views as history_views

from . import eid, health, local_mitid, views
from .eid_settings import LOCAL_LOGIN_PATH

# The admin logs in through allauth, so caseworkers get the same MFA and rate limits as everyone.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Fuldmagt – sagsbehandling"
admin.site.site_title = "Fuldmagt"

# A database or Redis outage answers 503 with a plain page, anything else the plain 500 page.
handler500 = "portal.outage.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("tilgaengelighed/", views.accessibility_statement, name="accessibility"),
    path("sprog/", views.switch_language, name="switch_language"),
    path("konto/oversigt/", views.account_settings, name="account_settings"),
    path("konto/forbliv-logget-ind/", views.session_keepalive, name="session_keepalive"),
    # The notices are on the start page now; old links and bookmarks land there.
    path(
        "beskeder/", RedirectView.as_view(pattern_name="authorities:start", query_string=True), name="notices"
    ),
    path("log/<uuid:uuid>/bevis/", history_views.log_entry_proof, name="log_entry_proof"),
    path("konto/identitet/", views.identity, name="identity"),
    path("konto/mitid/bekraeft/", eid.step_up, name="eid_step_up"),
    # The local MitID test login (development only; 404 unless EID_LOCAL_TEST_LOGIN is on).
    path(LOCAL_LOGIN_PATH.lstrip("/"), local_mitid.login, name="eid_local_login"),
    # allauth's SAML "acs/finish/" and "metadata/" URLs, answered by portal.eid's own views.
    re_path(r"^konto/saml/(?P<organization_slug>[^/]+)/acs/finish/$", eid.finish_acs),
    re_path(r"^konto/saml/(?P<organization_slug>[^/]+)/metadata/$", eid.metadata),
    path("konto/", include("allauth.urls")),
    path("accounts/", RedirectView.as_view(url="/konto/", permanent=False)),
    path("fuldmagter/", include("attorney.urls")),
    path("organisationer/", include("attorney.organisation_urls")),
    path("bevis/", attorney_views.proof, name="proof"),
    path("vaerge-og-foraeldremyndighed/", include("representation.urls")),
    path("", include("authorities.urls")),
    path("api/v1/", include("authorities.api.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
