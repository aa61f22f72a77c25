"""MitID login against an independent SAML IdP: pysaml2, signing and encrypting with Debian's xmlsec1.

The portal's own test IdP (tests/saml_idp.py) is written with the same libraries as the portal, so it
can share its blind spots. Here pysaml2 reads the portal's metadata and signed AuthnRequest and answers
the way NemLog-in may: every accepted key transport and data encryption, and the assertion written with
another namespace prefix than the Response around it (``saml2:``, ``saml:`` or a default namespace).
RSA PKCS#1 v1.5 and Triple DES are refused, and so is a signature that does not hold.
"""

import base64
import re
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.urls import reverse
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT, class_name
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, EncryptedAssertion, NameID
from saml2.samlp import response_from_string
from saml2.server import Server
from saml2.sigver import ASSERT_XPATH, pre_encryption_part, pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from portal import eid
from portal.eid_saml import XMLENC, XMLENC11
from portal.eid_settings import build_saml_app
from portal.models import AuditEvent, User

from ..saml_idp import key_and_certificate
from .test_eid import HOST, SP_ENTITY_ID, logged_in_user, post_to_acs

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(XMLSEC1 is None, reason="needs xmlsec1 (Debian package xmlsec1)"),
]

NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NEW_CPR = "2404781237"

RSA_OAEP_MGF1P = XMLENC + "rsa-oaep-mgf1p"
RSA_OAEP_11 = XMLENC11 + "rsa-oaep"
RSA_1_5 = XMLENC + "rsa-1_5"
AES256_GCM = XMLENC11 + "aes256-gcm"
AES128_GCM = XMLENC11 + "aes128-gcm"
AES256_CBC = XMLENC + "aes256-cbc"
AES128_CBC = XMLENC + "aes128-cbc"
TRIPLE_DES = XMLENC + "tripledes-cbc"
#: xmlsec1's --session-key for each data algorithm.
SESSION_KEYS = {AES256_GCM: "aes-256", AES128_GCM: "aes-128", AES256_CBC: "aes-256", AES128_CBC: "aes-128"}
SESSION_KEYS[TRIPLE_DES] = "des-192"


class Pysaml2IdP:
    """NemLog-in's part played by pysaml2's ``Server`` with the xmlsec1 crypto backend."""

    entity_id = "https://pysaml2-idp.example/"
    sso_url = "https://pysaml2-idp.example/sso"

    def __init__(self, folder, *, sp_metadata: str, sp_certificate: str, sp_private_key: str) -> None:
        key, certificate = key_and_certificate("pysaml2 IdP")
        (folder / "idp.key").write_text(key)
        (folder / "idp.crt").write_text(certificate)
        (folder / "sp.crt").write_text(sp_certificate)
        self.sp_certificate_file = str(folder / "sp.crt")
        self.sp_private_key = sp_private_key
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
                            }
                        },
                    }
                },
                "key_file": str(folder / "idp.key"),
                "cert_file": str(folder / "idp.crt"),
                "metadata": {"inline": [sp_metadata]},
                "xmlsec_binary": XMLSEC1,
                "crypto_backend": "xmlsec1",
            }
        )
        self.config = config
        self.server = Server(config=config)

    def metadata(self) -> str:
        return str(entity_descriptor(self.config))

    def read_authn_request(self, location: str):
        """pysaml2 checks the redirect binding's signature against the portal's metadata."""
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == self.sso_url, location
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        return self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query["SigAlg"],
            signature=query["Signature"],
        ).message

    def response(
        self,
        request,
        *,
        cpr: str = NEW_CPR,
        name: str = "Anne Jensen",
        loa: str = "Substantial",
        prefix: str | None = "saml",
        data: str = AES256_GCM,
        key_transport: str = RSA_OAEP_MGF1P,
        signing_key_file: str | None = None,
        tamper: bool = False,
    ) -> str:
        """A base64 SAMLResponse: pysaml2's assertion, written with ``prefix`` (None: a default
        namespace), signed by xmlsec1, put in a ``saml:`` Response and encrypted by xmlsec1."""
        made = self.server.create_authn_response(
            identity={
                eid.ATTR_CPR: [cpr],
                eid.ATTR_FULL_NAME: [name],
                eid.ATTR_EMAIL: ["anne@example.dk"],
                eid.ATTR_LOA: [loa],
            },
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"https://data.gov.dk/eid/person/{cpr}"),
            authn={"class_ref": eid.LOA_CONTEXT_PREFIX + loa},
            sign_assertion=False,
            encrypt_assertion=False,
        )
        # Unsigned, pysaml2 hands back its Response object.
        response = made if not isinstance(made, str) else response_from_string(made)
        assertion = response.assertion
        assertion.signature = pre_signature_part(
            assertion.id, self.server.sec.my_cert, 1, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
        )
        assertion_xml = assertion.to_string(nspair={"saml": NS_SAML, "ds": NS_DS}).decode()
        if prefix != "saml":  # still unsigned: the IdP writes it so
            tag = f"{prefix}:" if prefix else ""
            assertion_xml = re.sub(r"<(/?)saml:", rf"<\1{tag}", assertion_xml)
            assertion_xml = assertion_xml.replace("xmlns:saml=", f"xmlns:{prefix}=" if prefix else "xmlns=")
        signed = self.server.sec.sign_statement(
            assertion_xml, class_name(assertion), key_file=signing_key_file, node_id=assertion.id
        )
        signed = re.sub(r"^<\?xml[^>]*\?>\s*", "", signed)
        if tamper:
            signed = signed.replace(name, "Mallory Jensen")

        response.assertion = None
        response.encrypted_assertion = EncryptedAssertion()
        envelope = response.to_string(nspair={"samlp": NS_SAMLP, "saml": NS_SAML}).decode()
        envelope, found = re.subn(
            r"<saml:EncryptedAssertion\s*/>",
            lambda _: f"<saml:EncryptedAssertion>{signed}</saml:EncryptedAssertion>",
            envelope,
        )
        assert found == 1, envelope
        encrypted = self.server.sec.encrypt_assertion(
            envelope,
            self.sp_certificate_file,
            encryption_template(data, RSA_OAEP_MGF1P if key_transport == RSA_OAEP_11 else key_transport),
            key_type=SESSION_KEYS[data],
            node_xpath=ASSERT_XPATH,
        )
        if key_transport == RSA_OAEP_11:
            encrypted = self.rewrap_with_xmlenc11_rsa_oaep(encrypted)
        return base64.b64encode(encrypted.encode()).decode()

    def rewrap_with_xmlenc11_rsa_oaep(self, encrypted: str) -> str:
        """Debian's xmlsec1 (1.2) cannot write XML Encryption 1.1 RSA-OAEP, so the session key that
        xmlsec1 chose is wrapped again with RSA-OAEP, SHA-256 and MGF1-SHA256 by ``cryptography``: a
        third implementation, neither xmlsec1 nor the xmlsec library the portal decrypts with. (Getting
        at the session key takes the portal's private key, which only this test has.)"""
        document = etree.fromstring(encrypted.encode())
        [encrypted_key] = document.iterfind(f".//{{{XMLENC}}}EncryptedKey")
        method = encrypted_key.find(f"{{{XMLENC}}}EncryptionMethod")
        cipher_value = encrypted_key.find(f"{{{XMLENC}}}CipherData/{{{XMLENC}}}CipherValue")
        sp_key = serialization.load_pem_private_key(self.sp_private_key.encode(), password=None)
        session_key = sp_key.decrypt(
            base64.b64decode(cipher_value.text),
            padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),  # noqa: S303
        )
        sha256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        cipher_value.text = base64.b64encode(sp_key.public_key().encrypt(session_key, sha256)).decode()
        method.set("Algorithm", RSA_OAEP_11)
        for child in list(method):
            method.remove(child)
        etree.SubElement(method, f"{{{NS_DS}}}DigestMethod", Algorithm=XMLENC + "sha256")
        etree.SubElement(method, f"{{{XMLENC11}}}MGF", Algorithm=XMLENC11 + "mgf1sha256")
        return etree.tostring(document).decode()


def encryption_template(data: str, key_transport: str) -> str:
    """pysaml2's template for xmlsec1."""
    return str(pre_encryption_part(msg_enc=data, key_enc=key_transport))


@pytest.fixture
def client(settings):
    from .test_eid import browser

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    return browser()


@pytest.fixture
def idp(settings, tmp_path, client):
    """The portal configured for MitID against pysaml2; pysaml2 reads the portal's own metadata."""
    sp_key, sp_certificate = key_and_certificate("Fuldmagt test SP")
    placeholder = tmp_path / "idp-metadata.xml"

    def configure(idp_metadata: str) -> None:
        placeholder.write_text(idp_metadata)
        app = build_saml_app(
            idp_metadata_file=str(placeholder),
            sp_entity_id=SP_ENTITY_ID,
            sp_certificate=sp_certificate,
            sp_private_key=sp_key,
        )
        settings.SOCIALACCOUNT_PROVIDERS = {
            "saml": {"provider_class": "portal.eid.NemLogInProvider", "APPS": [app]}
        }

    # The portal's metadata needs some IdP, pysaml2 needs the portal's metadata: bootstrap with the
    # project's test IdP, then point the portal at pysaml2.
    from ..saml_idp import TestIdentityProvider

    configure(
        TestIdentityProvider(
            sp_certificate=sp_certificate, sp_entity_id=SP_ENTITY_ID, sp_host=HOST
        ).metadata()
    )
    sp_metadata = client.get(reverse("saml_metadata", args=["mitid"])).content.decode()
    provider = Pysaml2IdP(
        tmp_path, sp_metadata=sp_metadata, sp_certificate=sp_certificate, sp_private_key=sp_key
    )
    configure(provider.metadata())
    return provider


def start_login(client, idp):
    response = client.post(reverse("saml_login", args=["mitid"]), {"process": "login"})
    assert response.status_code == 302, response.content[:300]
    return idp.read_authn_request(response["Location"])


def login_with(client, idp, **answer):
    return post_to_acs(client, idp.response(start_login(client, idp), **answer))


def assert_logged_in_as_new_person(client, response):
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(national_id=NEW_CPR)
    assert user.name == "Anne Jensen"
    assert logged_in_user(client) == user
    assert client.session[eid.SESSION_KEY]["loa"] == "Substantial"
    assert not AuditEvent.objects.filter(action="eid.login_refused").exists()


def assert_refused(client, response, reason):
    assert response.status_code == 403
    assert not logged_in_user(client).is_authenticated
    assert not User.objects.filter(national_id=NEW_CPR).exists()
    [event] = AuditEvent.objects.filter(action="eid.login_refused")
    assert event.details["reason"] == reason, event.details


def short(algorithm: str) -> str:
    return algorithm.replace(XMLENC11, "xmlenc11-").replace(XMLENC, "")


# --- accepted --------------------------------------------------------------------------------------


def test_pysaml2_reads_the_portals_metadata_and_request(client, idp):
    request = start_login(client, idp)
    assert request.issuer.text == SP_ENTITY_ID
    assert request.assertion_consumer_service_url == f"http://{HOST}/konto/saml/mitid/acs/"


def test_the_portals_metadata_names_what_it_accepts_and_lasts_as_long_as_its_certificate(client, idp):
    response = client.get(reverse("saml_metadata", args=["mitid"]))
    root = etree.fromstring(response.content)
    md = {"md": "urn:oasis:names:tc:SAML:2.0:metadata"}
    methods = root.xpath(
        "//md:KeyDescriptor[@use='encryption']/md:EncryptionMethod/@Algorithm", namespaces=md
    )
    assert methods == [AES256_GCM, AES128_GCM, AES256_CBC, AES128_CBC, RSA_OAEP_11, RSA_OAEP_MGF1P]
    assert not root.xpath("//md:KeyDescriptor[@use='signing']/md:EncryptionMethod", namespaces=md)
    # The test certificate lasts a year; the metadata as long (not python3-saml's two days).
    certificate = x509.load_pem_x509_certificate(key_and_certificate("Fuldmagt test SP")[1].encode())
    assert root.get("validUntil") == certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert root.get("cacheDuration") == "PT86400S"


@pytest.mark.parametrize("key_transport", [RSA_OAEP_MGF1P, RSA_OAEP_11], ids=short)
@pytest.mark.parametrize("data", [AES256_GCM, AES128_GCM, AES256_CBC, AES128_CBC], ids=short)
def test_every_accepted_encryption_logs_in(client, idp, data, key_transport):
    response = login_with(client, idp, data=data, key_transport=key_transport)
    assert_logged_in_as_new_person(client, response)


@pytest.mark.parametrize("key_transport", [RSA_OAEP_MGF1P, RSA_OAEP_11], ids=short)
@pytest.mark.parametrize("prefix", ["saml2", "saml", None], ids=["saml2", "saml", "default"])
def test_the_assertions_own_namespace_prefix_keeps_its_signature(client, idp, prefix, key_transport):
    response = login_with(client, idp, prefix=prefix, key_transport=key_transport)
    assert_logged_in_as_new_person(client, response)


# --- refused ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key_transport"),
    [(AES256_GCM, RSA_1_5), (TRIPLE_DES, RSA_OAEP_MGF1P), (AES128_CBC, RSA_1_5)],
    ids=["rsa-1_5", "tripledes", "rsa-1_5-aes-cbc"],
)
def test_weak_encryption_is_refused(client, idp, data, key_transport):
    response = login_with(client, idp, data=data, key_transport=key_transport)
    assert_refused(client, response, "encryption")
    assert "encrypted in a way we do not accept" in response.content.decode()


def test_pysaml2s_own_default_encryption_triple_des_is_refused(client, idp, tmp_path):
    request = start_login(client, idp)
    made = idp.server.create_authn_response(
        identity={
            eid.ATTR_CPR: [NEW_CPR],
            eid.ATTR_FULL_NAME: ["Anne Jensen"],
            eid.ATTR_LOA: ["Substantial"],
        },
        in_response_to=request.id,
        destination=request.assertion_consumer_service_url,
        sp_entity_id=SP_ENTITY_ID,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="https://data.gov.dk/eid/person/x"),
        authn={"class_ref": eid.LOA_CONTEXT_PREFIX + "Substantial"},
        sign_assertion=True,
        encrypt_assertion=True,
        encrypt_assertion_self_contained=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    assert TRIPLE_DES in made
    response = post_to_acs(client, base64.b64encode(made.encode()).decode())
    assert_refused(client, response, "encryption")


def test_an_assertion_signed_with_another_key_is_refused(client, idp, tmp_path):
    other_key, _ = key_and_certificate("Somebody else")
    (tmp_path / "other.key").write_text(other_key)
    response = login_with(client, idp, prefix="saml2", signing_key_file=str(tmp_path / "other.key"))
    assert_refused(client, response, "signature")


def test_an_assertion_changed_after_signing_is_refused(client, idp):
    response = login_with(client, idp, prefix=None, tamper=True)
    assert_refused(client, response, "signature")
