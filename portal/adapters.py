"""allauth adapters: MitID logins are linked to accounts by CPR number, and sessions remember them.

Linking (``SocialAccountAdapter.pre_social_login``), after ``portal.eid.NemLogInProvider`` has checked
the response:

- the MitID (its persistent NameID) is already linked: log into that account, but only if the
  account's CPR number is the one in the assertion;
- otherwise an account is already *verified* with the assertion's CPR number: link and log into it;
- otherwise the person is logged into an unverified account (for example a relative who signed up
  with a password after being invited) and uses MitID to verify it: link the MitID to that account,
  which takes the CPR number and name from the assertion. A password account is never linked only
  because it typed the same CPR number: that number is a claim, perhaps a squatter's;
- otherwise create an account from the assertion: name and CPR from MitID, never typed by the person.
  The email address comes from the assertion when it has a free one; without, the person is asked for
  one on a short form (``EidSignupForm``) before the account is created – no placeholder addresses.
  That address is confirmed by a link as usual, but the login itself does not wait for it: MitID has
  already proved who the person is.

Every MitID login verifies the account's CPR number (``portal.identity``), and any other account
that had only claimed it loses the claim.

Accounts created through MitID start without a password, and no password-reset mail is sent for them:
a mistyped or someone else's address must not be able to take the account over.
"""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.utils import user_email
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.forms import SignupForm as SocialSignupForm
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base.constants import AuthProcess
from django import forms
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import eid
from .audit import record_event
from .identity import verify_identity_with_eid
from .models import Language, User

logger = logging.getLogger(__name__)

_RELOGIN_ATTRIBUTE = "_eid_relogin_same_user"
# When the person logged in before this visit, for the start page's "since your last visit".
PREVIOUS_VISIT_SESSION_KEY = "previous_visit"


def _is_eid(sociallogin) -> bool:
    return sociallogin is not None and sociallogin.account.provider == eid.PROVIDER_ID


def _email_taken(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


class AccountAdapter(DefaultAccountAdapter):
    def login(self, request, user) -> None:
        # Django moves last_login to now during login; the start page needs the one before.
        previous = user.last_login
        super().login(request, user)
        if previous is not None:
            request.session[PREVIOUS_VISIT_SESSION_KEY] = previous.isoformat()

    def get_login_redirect_url(self, request) -> str:
        # Caseworkers come to work in the admin; everyone else starts at the overview.
        if request.user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def post_login(self, request, user, **kwargs):
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if _is_eid(sociallogin):
            loa = (sociallogin.account.extra_data or {}).get("loa")
            eid.record_login(request, user, loa)
            record_event(
                action="eid.login",
                actor=user,
                details={"loa": loa, "new_account": bool(kwargs.get("signup"))},
            )
        else:
            eid.forget_login(request)
        return super().post_login(request, user, **kwargs)

    def logout(self, request) -> None:
        """allauth logs the current user out before a social login. When the same person logs in
        again with MitID (step-up), their session's work – a draft power of attorney, who they act
        for – survives; Django still gives the session a new key at login."""
        if not getattr(request, _RELOGIN_ATTRIBUTE, False):
            super().logout(request)
            return
        dropped = {AUTH_SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY, eid.SESSION_KEY}
        kept = {key: value for key, value in request.session.items() if key not in dropped}
        super().logout(request)
        request.session.update(kept)

    def get_reauthentication_methods(self, user) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        request = context.request
        if request is not None and eid.session_state(request) is not None:
            methods.insert(0, {"id": "eid", "description": _("Use MitID"), "url": reverse("eid_step_up")})
        return methods

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = context.request
        if required and request is not None and eid.recently_authenticated(request):
            return False
        return required

    def send_password_reset_mail(self, user, email, context) -> None:
        if not user.has_usable_password() and SocialAccount.objects.filter(
            user=user, provider=eid.PROVIDER_ID
        ):
            logger.info("No password reset for an account that logs in with MitID only (user %s).", user.pk)
            return
        super().send_password_reset_mail(user, email, context)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # Identity providers are trusted from the deployment's settings only, never from database rows
        # (which the admin could otherwise add).
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        return [app for app in apps if app.pk is None]

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """python3-saml rejected the response (signature, audience, recipient, time, encryption …)."""
        if provider is None or provider.id != eid.PROVIDER_ID:
            return super().on_authentication_error(
                request, provider, error=error, exception=exception, extra_context=extra_context
            )
        extra_context = extra_context or {}
        errors = extra_context.get("saml_errors") or [str(error or "error")]
        detail = extra_context.get("saml_last_error_reason") or ""
        reason = eid.classify_saml_errors(errors, detail)
        raise ImmediateHttpResponse(eid.refuse(request, reason, errors=errors, detail=detail))

    def pre_social_login(self, request, sociallogin) -> None:
        if not _is_eid(sociallogin):
            return
        sociallogin.state["process"] = AuthProcess.LOGIN
        identity = getattr(sociallogin, "eid_identity", None)
        if identity is None:
            raise ImmediateHttpResponse(eid.refuse(request, "invalid_response"))
        owner = User.objects.with_verified_cpr(identity.national_id).first()
        current = request.user if request.user.is_authenticated else None
        if sociallogin.is_existing:
            if owner is None or owner.pk != sociallogin.user.pk:
                raise ImmediateHttpResponse(eid.refuse(request, "identity_mismatch"))
            user = owner
        elif owner is not None:
            user = owner
            sociallogin.connect(request, user)
            record_event(action="eid.account_linked", actor=user)
        elif current is not None and not current.is_identity_verified and not current.is_staff:
            # The person logged into this unverified account proves with MitID who they are. Only
            # then is a password account linked: a CPR number typed at sign-up links nothing.
            user = current
            sociallogin.connect(request, user)
            record_event(action="eid.account_linked", actor=user)
        else:
            return  # a new account: allauth's sign-up flow, see is_auto_signup_allowed and save_user
        # The name and CPR number as NemLog-in states them from the register.
        user = verify_identity_with_eid(
            acting_user=user, national_id=identity.national_id, name=identity.name
        )
        sociallogin.user = user
        if current is not None and current.pk == user.pk:
            setattr(request, _RELOGIN_ATTRIBUTE, True)

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        if _is_eid(sociallogin):
            user.name = data["name"]
            user.national_id = data["national_id"]
            language = translation.get_language() or ""
            if language[:2] in Language.values:
                user.preferred_language = language[:2]
        return user

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        if not _is_eid(sociallogin):
            return super().is_auto_signup_allowed(request, sociallogin)
        email = user_email(sociallogin.user)
        if email and _email_taken(email):
            # Another account uses it: ask the person for a different address instead.
            user_email(sociallogin.user, "")
            sociallogin.email_addresses = []
            return False
        return bool(email) and super().is_auto_signup_allowed(request, sociallogin)

    def save_user(self, request, sociallogin, form=None):
        if not _is_eid(sociallogin):
            return super().save_user(request, sociallogin, form=form)
        national_id, name = sociallogin.user.national_id, sociallogin.user.name
        if User.objects.with_verified_cpr(national_id).exists():
            # Created in the meantime (a second tab): log in with MitID again to use it.
            raise ImmediateHttpResponse(eid.refuse(request, "account_exists"))
        user = super().save_user(request, sociallogin, form=form)
        return verify_identity_with_eid(acting_user=user, national_id=national_id, name=name)


class EidSignupForm(SocialSignupForm):
    """The one question after a first MitID login without a usable email address.

    Name and CPR number come from MitID and are shown on the page, not asked: this form has no field
    for them, and whatever is posted under those names is ignored.
    """

    preferred_language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    field_order = ["email", "preferred_language"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].label = _("Email address")
            self.fields["email"].help_text = _(
                "We write to you here when someone gives you a power of attorney or asks for one."
            )
        self.fields["preferred_language"].initial = self.sociallogin.user.preferred_language

    def validate_unique_email(self, value: str) -> str:
        if _email_taken(value):
            raise forms.ValidationError(
                _("Another account uses this email address. Enter a different one."), code="email_taken"
            )
        return value

    def custom_signup(self, request, user) -> None:
        user.preferred_language = self.cleaned_data["preferred_language"]
        user.save(update_fields=["preferred_language"])
