"""The local MitID test login: a page of this portal that plays NemLog-in, for development and demos.

On only with ``EID_LOCAL_TEST_LOGIN`` (the default in development without NemLog-in metadata; the
portal refuses to start with it in production). The portal's MitID button then sends its signed
AuthnRequest here, exactly as it would to NemLog-in. The tester picks a demo identity, or types a CPR
number and name, and an assurance level; the page answers with a Response signed and encrypted by a
test IdP (``portal.dev_idp``) that the browser posts to the portal's assertion consumer service, where
allauth and python3-saml check it like any answer from NemLog-in. Nothing here is trusted by the
portal except that IdP's signature, and the IdP's keys live only on the development machine.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import eid
from .cpr import normalize_cpr
from .dev_idp import LOCAL_ENTITY_ID, IdentityProvider, InvalidAuthnRequest, local_keys

#: The demo's people (``manage.py seed_demo``); Anne Jensen has been invited but has no account yet.
DEMO_IDENTITIES = (
    ("0102451234", "Karen Jensen"),
    ("1503752345", "Peter Jensen"),
    ("2308603456", "Ole Hansen"),
    ("1203904567", "Anne Jensen"),
)
OTHER = "other"


class TestLoginForm(forms.Form):
    __test__ = False  # not a pytest test class

    saml_request = forms.CharField(widget=forms.HiddenInput)
    identity = forms.ChoiceField(
        label=_("Who logs in?"),
        widget=forms.RadioSelect,
        choices=[
            *((cpr, f"{name} ({cpr[:6]}-{cpr[6:]})") for cpr, name in DEMO_IDENTITIES),
            (OTHER, _("Another person: type a CPR number and name below")),
        ],
        initial=DEMO_IDENTITIES[0][0],
    )
    national_id = forms.CharField(label=_("CPR number"), required=False, max_length=11)
    name = forms.CharField(label=_("Full name"), required=False, max_length=200)
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("Leave it empty to see how the portal asks for one."),
    )
    loa = forms.ChoiceField(
        label=_("Assurance level"),
        widget=forms.RadioSelect,
        choices=[("Low", _("Low")), ("Substantial", _("Substantial")), ("High", _("High"))],
        initial=eid.REQUIRED_LEVEL,
    )

    def clean(self):
        data = super().clean()
        if data.get("identity") != OTHER:
            data["name"] = dict(DEMO_IDENTITIES).get(data.get("identity"), "")
            data["national_id"] = data.get("identity")
            data["email"] = ""
            return data
        try:
            data["national_id"] = normalize_cpr(data.get("national_id") or "")
        except ValidationError as error:
            self.add_error("national_id", error)
        if not " ".join((data.get("name") or "").split()):
            self.add_error("name", _("Type the person's full name."))
        return data


def _identity_provider(request: HttpRequest) -> IdentityProvider:
    """The local test IdP, or 404 when the local test login is off."""
    provider = eid.configured_provider(request) if settings.EID_LOCAL_TEST_LOGIN else None
    if provider is None or not provider.app.settings.get("local_test_login"):
        raise Http404
    keys = local_keys(Path(settings.EID_LOCAL_TEST_LOGIN_DIR))
    return IdentityProvider(
        key=keys.idp_key,
        certificate=keys.idp_certificate,
        entity_id=LOCAL_ENTITY_ID,
        sso_url=request.build_absolute_uri(reverse("eid_local_login")),
        sp_certificate=keys.sp_certificate,
        sp_entity_id=provider.app.settings["sp"]["entity_id"],
        sp_host=request.get_host(),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    idp = _identity_provider(request)
    # The AuthnRequest as the portal redirected it here (query string), carried along in the form.
    raw_request = (
        request.POST.get("saml_request", "") if request.method == "POST" else request.META["QUERY_STRING"]
    )
    try:
        authn_request = idp.read_authn_request_query(raw_request)
    except InvalidAuthnRequest:
        return render(request, "portal/local_mitid_invalid.html", status=400)
    if authn_request.issuer != idp.sp_entity_id:
        return render(request, "portal/local_mitid_invalid.html", status=400)

    form = TestLoginForm(
        request.POST if request.method == "POST" else None, initial={"saml_request": raw_request}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saml_response = idp.response(
            authn_request,
            cpr=data["national_id"],
            name=" ".join(data["name"].split()),
            email=data["email"] or None,
            loa=data["loa"],
        )
        return render(
            request,
            "portal/local_mitid_continue.html",
            {
                "acs_url": authn_request.acs_url,
                "saml_response": saml_response,
                "relay_state": authn_request.relay_state,
                "name": " ".join(data["name"].split()),
                "level_name": eid.LEVEL_NAMES[data["loa"]],
            },
        )
    return render(
        request,
        "portal/local_mitid_login.html",
        {"form": form, "step_up": bool(authn_request.requested_contexts)},
    )
