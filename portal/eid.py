"""National eID login: MitID through NemLog-in (OIOSAML 3) on allauth's SAML provider.

The pieces:

- ``NemLogInProvider`` – allauth's SAML provider (``SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]``)
  with the OIOSAML 3 rules: the assertion must carry one valid CPR number, a full name and an NSIS
  assurance level; a response is used once (replay cache) and only for a login started in this browser
  session. Anything else is refused with a plain page and an ``eid.login_refused`` audit event.
  It can also ask NemLog-in for a minimum assurance level with a fresh login (step-up).
- The eID state of a session (``SESSION_KEY``): which user logged in with MitID, at what level and
  when. Set after every MitID login by ``portal.adapters.AccountAdapter.post_login``, removed by any
  other login. Password sessions have none: they are not affected by the rules below unless
  ``EID_REQUIRED_FOR_LEGAL_ACTS`` is on.
- ``requires_substantial_assurance`` – the one decorator for legal acts: in a MitID session below
  ``Substantial`` a POST is sent to the step-up page instead of reaching the view, and so is one from
  a password session when ``EID_REQUIRED_FOR_LEGAL_ACTS`` is on (production).
- ``step_up`` – that page: says in plain words why, and logs in again with MitID at the level needed.
  It doubles as the MitID way to "confirm it is you" where allauth asks for reauthentication.

Linking a MitID login to an account (by CPR) and creating accounts is in ``portal/adapters.py``;
reading NemLog-in's responses as it sends them (XML Encryption 1.1, the assertion's own namespace
prefixes, the accepted encryption algorithms) and the portal's metadata in ``portal/eid_saml.py``; the
local MitID test login for development in ``portal/local_mitid.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
from functools import wraps
from urllib.parse import urlsplit

from allauth.account.utils import get_next_redirect_url, get_request_param
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.saml import views as saml_views
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from allauth.socialaccount.providers.saml.utils import build_saml_config, prepare_django_request
from django.conf import settings
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from xmlsec import Error as XmlsecError

from .cpr import normalize_cpr
from .eid_saml import EncryptionRefused, sp_metadata

logger = logging.getLogger(__name__)

PROVIDER_ID = "saml"

# OIOSAML 3 attribute names (OIOSAML Web SSO Profile 3.0, "Attribute profile").
ATTR_CPR = "https://data.gov.dk/model/core/eid/cprNumber"
ATTR_FULL_NAME = "https://data.gov.dk/model/core/eid/fullName"
ATTR_EMAIL = "https://data.gov.dk/model/core/eid/email"
ATTR_LOA = "https://data.gov.dk/concept/core/nsis/loa"
LOA_CONTEXT_PREFIX = "https://data.gov.dk/concept/core/nsis/loa/"

#: NSIS assurance levels, lowest first.
LEVELS = ("Low", "Substantial", "High")
REQUIRED_LEVEL = "Substantial"
LEVEL_NAMES = {"Low": _("low"), "Substantial": _("substantial"), "High": _("high")}

SESSION_KEY = "eid"
_REPLAY_KEY = "eid:assertion:{}"
_CLOCK_DRIFT_SECONDS = 300  # python3-saml's allowed clock drift; assertions stay "fresh" that much longer
_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")

REFUSAL_MESSAGES = {
    "signature": _("The answer from MitID was not signed by NemLog-in, so we cannot trust it."),
    "audience": _("The answer from MitID was meant for another service."),
    "expired": _("The answer from MitID has expired."),
    "replayed": _("This answer from MitID has already been used."),
    "unsolicited": _("The answer from MitID does not belong to a login started here."),
    "cancelled": _("The login with MitID was cancelled or did not succeed."),
    "missing_cpr": _("MitID did not send a CPR number, so we cannot tell who you are."),
    "invalid_cpr": _("MitID did not send a valid CPR number, so we cannot tell who you are."),
    "missing_name": _("MitID did not send your name."),
    "invalid_name": _("MitID sent a name we cannot use."),
    "missing_loa": _("MitID did not say how securely you logged in."),
    "invalid_loa": _("MitID did not say how securely you logged in."),
    "identity_mismatch": _(
        "This MitID is registered to a different person than the account it was used for."
    ),
    "account_exists": _("An account for you was created in the meantime. Log in with MitID again to use it."),
    "encryption": _("The answer from MitID was encrypted in a way we do not accept."),
    "invalid_response": _("The answer from MitID could not be checked."),
}


class EidRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class EidIdentity:
    """What a checked OIOSAML 3 assertion says about the person."""

    national_id: str
    name: str
    email: str
    loa: str


# --- Reading and checking a response -----------------------------------------------------------


def _single_value(attributes: dict, name: str, what: str) -> str | None:
    values = attributes.get(name)
    if not values:
        return None
    if len(values) != 1 or not isinstance(values[0], str):
        raise EidRefused(f"invalid_{what}")
    return values[0].strip()


def read_identity(auth: OneLogin_Saml2_Auth) -> EidIdentity:
    """The person in a valid response, or EidRefused naming what is missing or malformed."""
    attributes = auth.get_attributes()
    raw_cpr = _single_value(attributes, ATTR_CPR, "cpr")
    if not raw_cpr:
        raise EidRefused("missing_cpr")
    if not re.fullmatch(r"\d{10}", raw_cpr):
        raise EidRefused("invalid_cpr")
    try:
        national_id = normalize_cpr(raw_cpr)
    except ValidationError:
        raise EidRefused("invalid_cpr") from None

    name = " ".join((_single_value(attributes, ATTR_FULL_NAME, "name") or "").split())
    if not name:
        raise EidRefused("missing_name")
    if len(name) > 200:
        raise EidRefused("invalid_name")

    loa = _single_value(attributes, ATTR_LOA, "loa")
    if loa is None:
        # Fall back on the authentication context NemLog-in also states.
        contexts = [c for c in auth.get_last_authn_contexts() if c.startswith(LOA_CONTEXT_PREFIX)]
        loa = contexts[0].removeprefix(LOA_CONTEXT_PREFIX) if len(contexts) == 1 else ""
        if not loa:
            raise EidRefused("missing_loa")
    if loa not in LEVELS:
        raise EidRefused("invalid_loa")

    # The email address is optional: anything but one valid address is ignored, not refused.
    emails = attributes.get(ATTR_EMAIL) or []
    email = emails[0].strip().lower() if len(emails) == 1 and isinstance(emails[0], str) else ""
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    return EidIdentity(national_id=national_id, name=name, email=email, loa=loa)


def check_not_replayed(auth: OneLogin_Saml2_Auth) -> None:
    """Each assertion is accepted once (in a shared cache until it could no longer be valid anyway)."""
    assertion_id = auth.get_last_assertion_id()
    if not assertion_id:
        raise EidRefused("invalid_response")
    not_on_or_after = auth.get_last_assertion_not_on_or_after()
    ttl = 60 * 60
    if not_on_or_after:
        ttl = max(60, int(not_on_or_after - time.time()) + _CLOCK_DRIFT_SECONDS)
    key = _REPLAY_KEY.format(hashlib.sha256(assertion_id.encode()).hexdigest())
    if not cache.add(key, 1, timeout=ttl):
        raise EidRefused("replayed")


def check_solicited(request: HttpRequest, provider: SAMLProvider, auth: OneLogin_Saml2_Auth) -> None:
    """The response must answer a login this browser session started (InResponseTo) and not yet used."""
    state_id = auth.get_last_response_in_response_to()
    stashed = statekit.get_states(request).get(state_id) if state_id else None
    if (
        not stashed
        or len(stashed) != 3
        or stashed[2] != provider.sub_id
        or time.time() - stashed[1] > statekit.STATE_TTL
    ):
        raise EidRefused("unsolicited")


def classify_saml_errors(errors, reason: str) -> str:
    """Turn python3-saml's error text into one of the refusal reasons shown to the person."""
    text = (reason or "").lower()
    if "signature" in text or "signed" in text or "reference" in text:
        return "signature"
    if "audience" in text or "recipient" in text or "destination" in text or "subjectconfirmation" in text:
        return "audience"
    if "expired" in text or "timestamp" in text or "notonorafter" in text or "notbefore" in text:
        return "expired"
    if "status code" in text:
        return "cancelled"
    return "invalid_response"


def refuse(request: HttpRequest, reason: str, *, errors=(), detail: str = "") -> HttpResponse:
    """Log a refused MitID login (never the CPR number) and show the person why, in plain words."""
    from .audit import record_event

    details = {"reason": reason}
    if errors:
        details["errors"] = [str(e)[:64] for e in list(errors)[:10]]
    if detail:
        details["detail"] = _CPR_LIKE.sub("[…]", detail)[:300]
    user = getattr(request, "user", None)
    record_event(
        action="eid.login_refused",
        actor=user if user is not None and user.is_authenticated else None,
        details=details,
    )
    logger.warning("MitID login refused: %s", reason)
    return render(
        request,
        "portal/eid_refused.html",
        {"message": REFUSAL_MESSAGES.get(reason, REFUSAL_MESSAGES["invalid_response"])},
        status=403,
    )


# --- The provider ------------------------------------------------------------------------------


class NemLogInProvider(SAMLProvider):
    """allauth's SAML provider with the OIOSAML 3 checks and step-up to a minimum assurance level."""

    # Keep allauth's SAML URLs: allauth includes ``<package>.urls`` for every provider class.
    package = "allauth.socialaccount.providers.saml"

    def get_redirect_from_request_kwargs(self, request: HttpRequest) -> dict:
        kwargs = super().get_redirect_from_request_kwargs(request)
        # A MitID login only ever logs in: connecting a MitID to whatever account is logged in
        # would let one person attach another person's identity.
        kwargs["process"] = AuthProcess.LOGIN
        level = get_request_param(request, "loa")
        if level in LEVELS[1:]:
            kwargs["loa"] = level
        return kwargs

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        level = kwargs.get("loa")
        config = build_saml_config(request, self.app.settings, self.app.client_id)
        if self.app.settings.get("local_test_login"):
            # The local MitID test login (development) answers on whatever host name the portal is
            # reached by, so the browser keeps its session cookie.
            config["idp"]["singleSignOnService"]["url"] = request.build_absolute_uri(
                reverse("eid_local_login")
            )
        if level:
            config["security"]["requestedAuthnContext"] = [LOA_CONTEXT_PREFIX + level]
            config["security"]["requestedAuthnContextComparison"] = "minimum"
        auth = OneLogin_Saml2_Auth(prepare_django_request(request), config)
        # A step-up always asks the person to authenticate again, not to reuse a NemLog-in session.
        url = auth.login(return_to="", force_authn=bool(level))
        self.stash_redirect_state(
            request, AuthProcess.LOGIN, next_url, data, state_id=auth.get_last_request_id(), **kwargs
        )
        return HttpResponseRedirect(url)

    def sociallogin_from_response(self, request: HttpRequest, response):
        try:
            check_not_replayed(response)
            check_solicited(request, self, response)
            if not response.get_nameid():
                raise EidRefused("invalid_response")
            identity = read_identity(response)
        except EidRefused as refusal:
            raise ImmediateHttpResponse(refuse(request, refusal.reason)) from None
        sociallogin = super().sociallogin_from_response(request, response)
        sociallogin.eid_identity = identity  # for linking by CPR in this request; never serialised
        return sociallogin

    def extract_uid(self, data) -> str:
        # The persistent NameID: a pseudonym NemLog-in keeps per person for this service.
        return data.get_nameid()

    def extract_extra_data(self, data) -> dict:
        # Stored on the SocialAccount: only the level of the latest login, never CPR, name or email.
        return {"loa": read_identity(data).loa}

    def extract_common_fields(self, data) -> dict:
        identity = read_identity(data)
        fields = {"name": identity.name, "national_id": identity.national_id}
        if identity.email:
            fields["email"] = identity.email
        return fields


@method_decorator(login_not_required, name="dispatch")
class FinishACSView(saml_views.FinishACSView):
    """allauth's end of the login, where a response python3-saml cannot even parse or decrypt (which
    allauth lets through as a server error) is refused like any other bad response."""

    def dispatch(self, request: HttpRequest, organization_slug) -> HttpResponse:
        try:
            return super().dispatch(request, organization_slug)
        except EncryptionRefused as error:
            return refuse(request, "encryption", errors=[type(error).__name__], detail=error.algorithm)
        except (etree.LxmlError, XmlsecError, OneLogin_Saml2_ValidationError, ValueError) as error:
            logger.info("Unreadable SAML response", exc_info=True)
            return refuse(request, "invalid_response", errors=[type(error).__name__])


finish_acs = FinishACSView.as_view()


@method_decorator(login_not_required, name="dispatch")
class MetadataView(saml_views.MetadataView):
    """The portal's metadata for NemLog-in: allauth's, with the accepted encryption algorithms and a
    validity that lasts as long as the portal's certificate (``portal.eid_saml.sp_metadata``)."""

    def dispatch(self, request: HttpRequest, organization_slug) -> HttpResponse:
        provider = self.get_provider(organization_slug)
        config = build_saml_config(request, provider.app.settings, organization_slug)
        return HttpResponse(content=sp_metadata(config), content_type="text/xml")


metadata = MetadataView.as_view()


def configured_provider(request: HttpRequest) -> NemLogInProvider | None:
    """The MitID provider when the portal is configured for it, else None."""
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.models import SocialApp

    try:
        return get_adapter(request).get_provider(request, PROVIDER_ID)
    except (SocialApp.DoesNotExist, SocialApp.MultipleObjectsReturned):
        return None


# --- The eID state of a session ----------------------------------------------------------------


def record_login(request: HttpRequest, user, loa: str) -> None:
    request.session[SESSION_KEY] = {"user": str(user.pk), "loa": loa, "at": time.time()}


def forget_login(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def session_state(request: HttpRequest) -> dict | None:
    """The MitID login behind this session, or None for a password session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict) or state.get("user") != str(user.pk):
        return None
    return state


def meets(level: str | None, required: str = REQUIRED_LEVEL) -> bool:
    return level in LEVELS and LEVELS.index(level) >= LEVELS.index(required)


def recently_authenticated(request: HttpRequest) -> bool:
    """A MitID login within allauth's reauthentication window counts as confirming it is the person."""
    state = session_state(request)
    return bool(state) and time.time() - state.get("at", 0) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


# --- The rule and the step-up page -------------------------------------------------------------


def _back_to(request: HttpRequest) -> str:
    """Where to return after stepping up: the page the form was on, if it is ours."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


def may_do_legal_acts(request: HttpRequest) -> bool:
    """Whether this session may give, accept, revoke, answer a consent or act for someone.

    A MitID session needs level Substantial or higher. A password session (with or without a second
    factor) may too, unless ``EID_REQUIRED_FOR_LEGAL_ACTS`` is on (the default in production): then it
    can read but not act, also for an account that was made through MitID and later got a password.
    """
    state = session_state(request)
    if state is None:
        return not settings.EID_REQUIRED_FOR_LEGAL_ACTS
    return meets(state.get("loa"))


def requires_substantial_assurance(view):
    """The one decorator for legal acts: a POST from a session that may not do them (see
    ``may_do_legal_acts``) goes to the step-up page instead, and nothing is changed. Reading pages
    pass through untouched.
    """

    @wraps(view)
    def _wrapped(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not may_do_legal_acts(request):
            return redirect(f"{reverse('eid_step_up')}?{urlencode({'next': _back_to(request)})}")
        return view(request, *args, **kwargs)

    return _wrapped


@login_required
def step_up(request: HttpRequest) -> HttpResponse:
    """Log in again with MitID at level Substantial: after a too-low login, or to confirm it is you."""
    state = session_state(request)
    provider = configured_provider(request)
    level = state.get("loa") if state else None
    return render(
        request,
        "portal/step_up.html",
        {
            "next_url": get_next_redirect_url(request) or reverse("home"),
            "login_url": provider.get_login_url(request) if provider else None,
            "level_too_low": state is not None and not meets(level),
            "mitid_required": state is None and settings.EID_REQUIRED_FOR_LEGAL_ACTS,
            "level_name": LEVEL_NAMES.get(level, ""),
            "required_level": REQUIRED_LEVEL,
            "required_level_name": LEVEL_NAMES[REQUIRED_LEVEL],
        },
    )
