"""A SAML identity provider that plays NemLog-in's part in an OIOSAML 3 login, for development and tests.

It has its own key and certificate (made with ``cryptography``), publishes metadata, reads the
portal's signed AuthnRequest from the redirect and answers with a real Response: the assertion signed
with xmlsec (python3-saml's ``add_sign``) and encrypted for the portal, exactly as the portal's SAML
configuration demands. It is never NemLog-in and never runs in production:

- the tests (``tests/saml_idp.py``) change one thing at a time (no signature, the wrong key, another
  audience, a missing CPR …) to see the portal refuse it;
- the local MitID test login (``portal.local_mitid``, development only) answers a tester who picks a
  demo identity or types a CPR number and name.

Nothing here needs Django's app registry, so ``portal.settings`` can use it to set the local test
login up.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SPEC_VERSION = "https://data.gov.dk/model/core/specVersion"


#: OIOSAML 3 attribute names and assurance levels (as in ``portal.eid``, which needs the app registry).
ATTR_CPR = "https://data.gov.dk/model/core/eid/cprNumber"
ATTR_FULL_NAME = "https://data.gov.dk/model/core/eid/fullName"
ATTR_EMAIL = "https://data.gov.dk/model/core/eid/email"
ATTR_LOA = "https://data.gov.dk/concept/core/nsis/loa"
LOA_CONTEXT_PREFIX = "https://data.gov.dk/concept/core/nsis/loa/"
LEVELS = ("Low", "Substantial", "High")


class InvalidAuthnRequest(ValueError):
    """The redirect does not carry an AuthnRequest signed by the portal."""


def new_key_and_certificate(common_name: str, *, days: int = 365) -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _body(certificate_pem: str) -> str:
    return "".join(line for line in certificate_pem.splitlines() if "-----" not in line)


def _instant(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class AuthnRequest:
    """What the portal asked for, read back from the redirect to the IdP."""

    id: str
    issuer: str
    acs_url: str
    force_authn: bool
    requested_contexts: list[str]
    relay_state: str


class IdentityProvider:
    def __init__(
        self,
        *,
        key: str,
        certificate: str,
        entity_id: str,
        sso_url: str,
        sp_certificate: str,
        sp_entity_id: str,
        sp_host: str,
    ) -> None:
        self.key, self.certificate = key, certificate
        self.entity_id, self.sso_url = entity_id, sso_url
        self.sp_certificate = sp_certificate
        self.sp_entity_id = sp_entity_id
        self.sp_host = sp_host

    def metadata(self) -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID={quoteattr(self.entity_id)}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{_body(self.certificate)}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location={quoteattr(self.sso_url)}/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    # --- the request ---------------------------------------------------------------------------

    def read_authn_request(self, location: str) -> AuthnRequest:
        """The AuthnRequest in a redirect to this IdP's single sign-on URL."""
        parts = urlsplit(location)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != self.sso_url:
            raise InvalidAuthnRequest(f"not a redirect to {self.sso_url}: {location}")
        return self.read_authn_request_query(parts.query)

    def read_authn_request_query(self, query_string: str) -> AuthnRequest:
        """Check the redirect binding's signature with the portal's certificate and read the request."""
        try:
            raw = dict(pair.split("=", 1) for pair in query_string.split("&") if "=" in pair)
            query = parse_qs(query_string)
            if unquote(raw.get("SigAlg", "")) != OneLogin_Saml2_Constants.RSA_SHA256:
                raise InvalidAuthnRequest("the AuthnRequest must be signed with RSA-SHA256")
            signed = "&".join(
                f"{name}={raw[name]}" for name in ("SAMLRequest", "RelayState", "SigAlg") if name in raw
            )
            if not OneLogin_Saml2_Utils.validate_binary_sign(
                signed,
                base64.b64decode(query["Signature"][0]),
                self.sp_certificate,
                OneLogin_Saml2_Constants.RSA_SHA256,
            ):
                raise InvalidAuthnRequest("the signature does not verify with the portal's certificate")
            xml = OneLogin_Saml2_XML.to_etree(
                OneLogin_Saml2_Utils.decode_base64_and_inflate(query["SAMLRequest"][0])
            )
        except (KeyError, IndexError, ValueError, TypeError, etree.LxmlError, xmlsec.Error) as error:
            if isinstance(error, InvalidAuthnRequest):
                raise
            raise InvalidAuthnRequest(f"unreadable AuthnRequest: {type(error).__name__}") from error
        namespaces = {"samlp": NS_SAMLP, "saml": NS_SAML}
        return AuthnRequest(
            id=xml.get("ID"),
            issuer=xml.findtext("saml:Issuer", namespaces=namespaces),
            acs_url=xml.get("AssertionConsumerServiceURL"),
            force_authn=xml.get("ForceAuthn") == "true",
            requested_contexts=[
                ref.text
                for ref in xml.findall(
                    "samlp:RequestedAuthnContext/saml:AuthnContextClassRef", namespaces=namespaces
                )
            ],
            relay_state=query.get("RelayState", [""])[0],
        )

    # --- the response --------------------------------------------------------------------------

    def response(
        self,
        request: AuthnRequest | None,
        *,
        cpr: str | list[str] | None = "0102451234",
        name: str | None = "Karen Jensen",
        email: str | None = None,
        loa: str | None = "Substantial",
        name_id: str | None = None,
        audience: str | None = None,
        recipient: str | None = None,
        in_response_to: str | None = "",
        valid_for: datetime.timedelta = datetime.timedelta(minutes=5),
        sign_assertion: bool = True,
        signing_key: tuple[str, str] | None = None,
        encrypt: bool = True,
        encrypt_for: str | None = None,
        sign_response: bool = False,
        assertion_id: str | None = None,
        status: str = "urn:oasis:names:tc:SAML:2.0:status:Success",
    ) -> str:
        """A base64 SAMLResponse for ``request`` (None: unsolicited), NemLog-in style by default."""
        now = datetime.datetime.now(datetime.UTC)
        acs_url = request.acs_url if request else f"http://{self.sp_host}/konto/saml/mitid/acs/"
        if in_response_to == "":
            in_response_to = request.id if request else None
        irt = f" InResponseTo={quoteattr(in_response_to)}" if in_response_to else ""
        audience = audience or self.sp_entity_id
        recipient = recipient or acs_url
        name_id = (
            name_id
            or f"https://data.gov.dk/model/core/eid/person/uuid/{uuid.uuid5(uuid.NAMESPACE_OID, str(cpr))}"
        )
        until = _instant(now + valid_for)

        attributes = {SPEC_VERSION: ["OIO-SAML-3.0"]}
        for attribute, value in ((ATTR_CPR, cpr), (ATTR_FULL_NAME, name), (ATTR_EMAIL, email)):
            if value is not None:
                attributes[attribute] = value if isinstance(value, list) else [value]
        if loa is not None:
            attributes[ATTR_LOA] = [loa]
        attribute_xml = "".join(
            f'<saml:Attribute Name={quoteattr(attribute)} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
            + "".join(
                f'<saml:AttributeValue xsi:type="xs:string">{escape(v)}</saml:AttributeValue>' for v in values
            )
            + "</saml:Attribute>"
            for attribute, values in attributes.items()
        )
        context = (
            LOA_CONTEXT_PREFIX + loa
            if loa in LEVELS
            else "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
        )
        assertion = f"""<saml:Assertion xmlns:saml="{NS_SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID={quoteattr(assertion_id or "_" + uuid.uuid4().hex)}
 IssueInstant="{_instant(now)}" Version="2.0">
<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>
<saml:Subject>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{escape(name_id)}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient={quoteattr(recipient)}{irt}/>
</saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{_instant(now - datetime.timedelta(seconds=30))}" NotOnOrAfter="{until}">
<saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience></saml:AudienceRestriction>
</saml:Conditions>
<saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_{uuid.uuid4().hex}">
<saml:AuthnContext><saml:AuthnContextClassRef>{escape(context)}</saml:AuthnContextClassRef></saml:AuthnContext>
</saml:AuthnStatement>
<saml:AttributeStatement>{attribute_xml}</saml:AttributeStatement>
</saml:Assertion>"""
        key, certificate = signing_key or (self.key, self.certificate)
        if sign_assertion:
            assertion = OneLogin_Saml2_Utils.add_sign(
                assertion,
                key,
                certificate,
                sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
                digest_algorithm=OneLogin_Saml2_Constants.SHA256,
            )
        assertion_element = etree.fromstring(assertion)
        if encrypt:
            assertion_element = self._encrypt(assertion_element, encrypt_for or self.sp_certificate)

        response = etree.fromstring(
            f"""<samlp:Response xmlns:samlp="{NS_SAMLP}" xmlns:saml="{NS_SAML}" ID="_{uuid.uuid4().hex}"
 Version="2.0" IssueInstant="{_instant(now)}" Destination={quoteattr(acs_url)}{irt}>
<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value={quoteattr(status)}/></samlp:Status>
</samlp:Response>"""
        )
        if status.endswith(":Success"):
            response.append(assertion_element)
        xml = etree.tostring(response)
        if sign_response:
            xml = OneLogin_Saml2_Utils.add_sign(
                xml,
                key,
                certificate,
                sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
                digest_algorithm=OneLogin_Saml2_Constants.SHA256,
            )
        return base64.b64encode(xml).decode()

    def _encrypt(self, assertion: etree._Element, certificate: str) -> etree._Element:
        """<saml:EncryptedAssertion> for the portal's certificate: AES-256-GCM, key wrapped with RSA-OAEP."""
        # Parsed from text, not appended: moving the node would make lxml rename its prefix to the
        # container's (see portal.eid_saml), and the signature would no longer hold.
        container = etree.fromstring(
            f'<saml:EncryptedAssertion xmlns:saml="{NS_SAML}">'.encode()
            + etree.tostring(assertion)
            + b"</saml:EncryptedAssertion>"
        )
        assertion = container[0]
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(certificate, xmlsec.KeyFormat.CERT_PEM, None))
        template = xmlsec.template.encrypted_data_create(
            container, xmlsec.Transform.AES256_GCM, type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
        )
        xmlsec.template.encrypted_data_ensure_cipher_value(template)
        key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
        encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
        xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
        context = xmlsec.EncryptionContext(manager)
        context.key = xmlsec.Key.generate(xmlsec.KeyData.AES, 256, xmlsec.KeyDataType.SESSION)
        context.encrypt_xml(template, assertion)
        return container


# --- The local MitID test login (development only) -----------------------------------------------

LOCAL_ENTITY_ID = "urn:fuldmagt:local-mitid-test-login"


@dataclasses.dataclass(frozen=True)
class LocalKeys:
    """The local test login's two key pairs: its IdP's and the portal's (as the SAML service provider)."""

    idp_key: str
    idp_certificate: str
    sp_key: str
    sp_certificate: str


def local_keys(folder: Path) -> LocalKeys:
    """The key pairs in ``folder``, made on first use and then kept, so that a restarted development
    server (runserver reloads) goes on answering logins that an earlier one started."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pems = {}
    for who, common_name in (("idp", "Local MitID test login"), ("sp", "Fuldmagt (local test login)")):
        key_file, certificate_file = folder / f"{who}.key", folder / f"{who}.crt"
        if not (key_file.is_file() and certificate_file.is_file()):
            key, certificate = new_key_and_certificate(common_name, days=10 * 365)
            _write_atomically(key_file, key, mode=0o600)
            _write_atomically(certificate_file, certificate, mode=0o644)
        pems[who] = (key_file.read_text(), certificate_file.read_text())
    return LocalKeys(*pems["idp"], *pems["sp"])


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_text(text)
    partial.chmod(mode)
    partial.replace(path)
