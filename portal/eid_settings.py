"""Build allauth's SAML provider configuration for MitID through NemLog-in (OIOSAML 3).

Used by ``portal/settings.py`` (from environment variables) and by the tests (with a throwaway
identity provider). Nothing here touches the database or Django's app registry, so it is safe to
import while settings load.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

#: The ``client_id`` of the one SAML app; it is also the slug in the SAML URLs
#: (``/konto/saml/mitid/acs/``, ``/konto/saml/mitid/metadata/`` …).
EID_APP_SLUG = "mitid"

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
#: Where the local MitID test login answers (``portal.urls``).
LOCAL_LOGIN_PATH = "/konto/mitid-test/"


def read_pem(path: str, what: str) -> str:
    if not path:
        return ""
    file = Path(path)
    if not file.is_file():
        raise ImproperlyConfigured(f"{what}: no file at {path}.")
    return file.read_text()


def parse_idp_metadata(xml: str, entity_id: str = "") -> dict:
    """The IdP's entity id and single sign-on URL from a metadata document (python3-saml's parser)."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id or None)
    except Exception as error:
        raise ImproperlyConfigured(f"The IdP metadata cannot be read: {error}") from error
    idp = parsed.get("idp") or {}
    if not idp.get("entityId") or not idp.get("singleSignOnService", {}).get("url"):
        raise ImproperlyConfigured("The IdP metadata has no IDPSSODescriptor with a SingleSignOnService.")
    return idp


def build_saml_app(
    *,
    sp_entity_id: str,
    sp_certificate: str,
    sp_private_key: str,
    idp_metadata_file: str = "",
    idp_metadata_url: str = "",
    idp_entity_id: str = "",
    want_assertion_encrypted: bool = True,
    want_message_signed: bool = False,
    contact_email: str = "",
    organization_name: str = "",
    organization_url: str = "",
    name: str = "MitID",
) -> dict:
    """One entry for ``SOCIALACCOUNT_PROVIDERS["saml"]["APPS"]``.

    The IdP comes from its metadata: a local file (reviewed and pinned by the operator; read once at
    start-up) or a URL (fetched by allauth and cached for four hours). Either way allauth parses the
    full metadata, including several signing certificates during a NemLog-in certificate rollover.
    """
    if bool(idp_metadata_file) == bool(idp_metadata_url):
        raise ImproperlyConfigured("Set exactly one of EID_IDP_METADATA_FILE and EID_IDP_METADATA_URL.")
    if not sp_entity_id:
        raise ImproperlyConfigured("EID_SP_ENTITY_ID is required for MitID login.")
    if not sp_certificate.strip() or not sp_private_key.strip():
        raise ImproperlyConfigured(
            "MitID login needs the portal's certificate and key: set EID_SP_CERTIFICATE_FILE and "
            "EID_SP_PRIVATE_KEY_FILE."
        )
    if idp_metadata_file:
        path = Path(idp_metadata_file).resolve()
        if not path.is_file():
            raise ImproperlyConfigured(f"EID_IDP_METADATA_FILE: no file at {idp_metadata_file}.")
        idp_entity_id = parse_idp_metadata(path.read_text(), idp_entity_id)["entityId"]
        metadata_url = path.as_uri()
    else:
        if not idp_entity_id:
            raise ImproperlyConfigured("EID_IDP_ENTITY_ID is required with EID_IDP_METADATA_URL.")
        metadata_url = idp_metadata_url
    idp = {"entity_id": idp_entity_id, "metadata_url": metadata_url}
    if idp_metadata_file:
        # allauth caches parsed metadata (in Redis, across restarts); a replaced file is read again
        # within five minutes.
        idp["metadata_cache_timeout"] = 300
    settings = {
        "idp": idp,
        "sp": {"entity_id": sp_entity_id},
        # Only the NameID (a persistent pseudonym) is used as allauth's uid; the eID attributes are
        # read and checked by portal.eid.NemLogInProvider, not through allauth's generic mapping.
        "attribute_mapping": {},
        "advanced": {
            "strict": True,
            "x509cert": sp_certificate,
            "private_key": sp_private_key,
            "authn_request_signed": True,
            "logout_request_signed": True,
            "logout_response_signed": True,
            "want_assertion_signed": True,
            "want_message_signed": want_message_signed,
            "want_assertion_encrypted": want_assertion_encrypted,
            "want_name_id": True,
            "want_attribute_statement": True,
            "name_id_format": NAMEID_PERSISTENT,
            "signature_algorithm": RSA_SHA256,
            "digest_algorithm": SHA256,
            "reject_deprecated_algorithm": True,
            "allow_repeat_attribute_name": False,
            "allow_single_label_domains": False,
            "reject_idp_initiated_sso": True,
        },
    }
    if contact_email:
        settings["contact_person"] = {
            "technical": {"givenName": organization_name or "Fuldmagt", "emailAddress": contact_email},
            "support": {"givenName": organization_name or "Fuldmagt", "emailAddress": contact_email},
        }
    if organization_name and organization_url:
        settings["organization"] = {
            lang: {"name": organization_name, "displayname": organization_name, "url": organization_url}
            for lang in ("da", "en")
        }
    return {"name": name, "provider_id": "saml", "client_id": EID_APP_SLUG, "settings": settings}


def sso_origin(app: dict) -> str:
    """The origin a login form is redirected to, for the Content-Security-Policy's form-action."""
    idp = app["settings"]["idp"]
    url = idp["metadata_url"]
    if url.startswith("file:"):
        from urllib.request import url2pathname

        url = parse_idp_metadata(Path(url2pathname(urlsplit(url).path)).read_text(), idp["entity_id"])[
            "singleSignOnService"
        ]["url"]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def saml_apps_from_env(env, *, contact_email: str, organization_name: str, organization_url: str) -> list:
    """The SAML app list from ``EID_*`` variables: empty (MitID login off) unless IdP metadata is set."""
    metadata_file = env.str("EID_IDP_METADATA_FILE", default="")
    metadata_url = env.str("EID_IDP_METADATA_URL", default="")
    if not metadata_file and not metadata_url:
        return []
    return [
        build_saml_app(
            idp_metadata_file=metadata_file,
            idp_metadata_url=metadata_url,
            idp_entity_id=env.str("EID_IDP_ENTITY_ID", default=""),
            sp_entity_id=env.str("EID_SP_ENTITY_ID", default=""),
            sp_certificate=read_pem(
                env.str("EID_SP_CERTIFICATE_FILE", default=""), "EID_SP_CERTIFICATE_FILE"
            ),
            sp_private_key=read_pem(
                env.str("EID_SP_PRIVATE_KEY_FILE", default=""), "EID_SP_PRIVATE_KEY_FILE"
            ),
            want_assertion_encrypted=env.bool("EID_WANT_ASSERTION_ENCRYPTED", default=True),
            want_message_signed=env.bool("EID_WANT_MESSAGE_SIGNED", default=False),
            contact_email=contact_email,
            organization_name=organization_name,
            organization_url=organization_url,
        )
    ]


def local_test_login_app(folder: Path, *, base_url: str) -> dict:
    """The SAML app for the local MitID test login (``portal.local_mitid``): the same login path as
    NemLog-in, against an IdP that this portal runs itself. Its keys are made on first use in
    ``folder`` (git-ignored) and kept; its IdP metadata is written there too."""
    from .dev_idp import LOCAL_ENTITY_ID, IdentityProvider, local_keys

    keys = local_keys(folder)
    sp_entity_id = f"{base_url}/saml"
    idp = IdentityProvider(
        key=keys.idp_key,
        certificate=keys.idp_certificate,
        entity_id=LOCAL_ENTITY_ID,
        # Stands in for the metadata; the login is sent to the host the person uses (portal.eid).
        sso_url=f"{base_url}{LOCAL_LOGIN_PATH}",
        sp_certificate=keys.sp_certificate,
        sp_entity_id=sp_entity_id,
        sp_host=urlsplit(base_url).netloc,
    )
    metadata = folder / "idp-metadata.xml"
    if not metadata.is_file() or metadata.read_text() != idp.metadata():
        metadata.write_text(idp.metadata())
    app = build_saml_app(
        idp_metadata_file=str(metadata),
        sp_entity_id=sp_entity_id,
        sp_certificate=keys.sp_certificate,
        sp_private_key=keys.sp_key,
        name="MitID (test)",
    )
    app["settings"]["local_test_login"] = True
    # A development server is often reached as "localhost".
    app["settings"]["advanced"]["allow_single_label_domains"] = True
    return app


def local_test_login_apps(env, *, production: bool, configured_apps: list, folder: Path, base_url: str):
    """``EID_LOCAL_TEST_LOGIN``: on by default in development without NemLog-in metadata; never in
    production, and never beside NemLog-in. Returns the setting and the SAML app list to use."""
    enabled = env.bool("EID_LOCAL_TEST_LOGIN", default=not production and not configured_apps)
    if not enabled:
        return False, configured_apps
    if production:
        raise ImproperlyConfigured(
            "EID_LOCAL_TEST_LOGIN is a test login for development: it must be off when DJANGO_ENV=production."
        )
    if configured_apps:
        raise ImproperlyConfigured(
            "EID_LOCAL_TEST_LOGIN and NemLog-in (EID_IDP_METADATA_FILE/EID_IDP_METADATA_URL) exclude each other."
        )
    return True, [local_test_login_app(folder, base_url=base_url)]
