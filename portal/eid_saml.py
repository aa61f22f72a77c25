"""Reading NemLog-in's SAML responses as NemLog-in really sends them, where python3-saml falls short.

python3-saml (under allauth's SAML provider) does the checking; three things are added here, and
``install()`` puts them in place once at start-up (``portal.apps.PortalConfig.ready``):

- **The schema set.** python3-saml checks a response against its bundled SAML schemas, which know XML
  Encryption 1.0 only. RSA-OAEP key transport from XML Encryption 1.1 (``xmlenc11#rsa-oaep``) states
  its mask generation function in an ``<xenc11:MGF>`` element, which those schemas cannot validate, so
  a correct response "does not match the saml-schema-protocol-2.0.xsd". ``NemLogInXML`` checks it
  against python3-saml's schemas together with the XML Encryption 1.1 declarations
  (``saml_schemas/xenc-schema-11.xsd``).
- **The assertion's own namespace prefixes.** python3-saml decrypts the assertion where it is, inside
  ``<EncryptedAssertion>``, and then moves it up into the Response with lxml's ``replace()``. Moving a
  node makes lxml drop the node's namespace declarations whose namespace an ancestor already declares,
  and rename the node's prefix to the ancestor's – whatever the prefix. An assertion written as
  ``<saml2:Assertion xmlns:saml2=…>`` (or with a default namespace) inside a Response that declares
  ``xmlns:saml`` becomes ``<saml:Assertion>``. The prefixes are part of the canonical form the IdP
  signed, so its signature no longer verifies (while ``xmlsec1`` verifies the response as sent).
  ``NemLogInResponse`` takes the decrypted assertion out as text and parses the document anew, so
  every element keeps the prefix it was signed with.
- **Accepted encryption algorithms.** xmlsec decrypts whatever it can. RSA PKCS#1 v1.5 key transport
  (padding-oracle attacks) and Triple DES are refused before anything is decrypted; accepted are
  AES-GCM and AES-CBC (128 and 256 bits) for the assertion and RSA-OAEP for the key – the same list
  the portal's metadata announces (``ENCRYPTION_METHODS``).
"""

from __future__ import annotations

import datetime
import functools
import uuid
from pathlib import Path

import onelogin.saml2.response
from cryptography import x509
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

XMLENC = "http://www.w3.org/2001/04/xmlenc#"
XMLENC11 = "http://www.w3.org/2009/xmlenc11#"

#: Accepted for the assertion itself, strongest first (also the order in the portal's metadata).
DATA_ENCRYPTION = (
    XMLENC11 + "aes256-gcm",
    XMLENC11 + "aes128-gcm",
    XMLENC + "aes256-cbc",
    XMLENC + "aes128-cbc",
)
#: Accepted for the key that encrypts it (key transport to the portal's certificate).
KEY_TRANSPORT = (XMLENC11 + "rsa-oaep", XMLENC + "rsa-oaep-mgf1p")
ENCRYPTION_METHODS = DATA_ENCRYPTION + KEY_TRANSPORT

PROTOCOL_SCHEMA = "saml-schema-protocol-2.0.xsd"
SCHEMA_DIR = Path(__file__).resolve().parent / "saml_schemas"
_ONELOGIN_SCHEMA_DIR = Path(onelogin.saml2.response.__file__).resolve().parent / "schemas"


class EncryptionRefused(OneLogin_Saml2_ValidationError):
    """The assertion is encrypted with an algorithm the portal does not accept."""

    def __init__(self, algorithm: str) -> None:
        super().__init__(
            f"Encryption algorithm not accepted: {algorithm[:100]}",
            OneLogin_Saml2_ValidationError.NO_ENCRYPTED_ASSERTION,  # not encrypted in an accepted way
        )
        self.algorithm = algorithm


def check_encryption(encrypted_assertion: etree._Element) -> None:
    """Every EncryptedData must use an accepted data algorithm and every EncryptedKey an accepted key
    transport; a missing EncryptionMethod is refused too rather than left to xmlsec's defaults."""
    namespaces = {"xenc": XMLENC}
    parts = [
        (data, DATA_ENCRYPTION) for data in encrypted_assertion.iterfind(".//xenc:EncryptedData", namespaces)
    ]
    parts += [
        (key, KEY_TRANSPORT) for key in encrypted_assertion.iterfind(".//xenc:EncryptedKey", namespaces)
    ]
    if not parts:
        raise EncryptionRefused("none")
    for element, accepted in parts:
        method = element.find("xenc:EncryptionMethod", namespaces)
        algorithm = method.get("Algorithm", "") if method is not None else ""
        if algorithm not in accepted:
            raise EncryptionRefused(algorithm or "none")


@functools.cache
def protocol_schema() -> etree.XMLSchema:
    """python3-saml's SAML protocol schema (with its imports) plus the XML Encryption 1.1 declarations."""
    wrapper = f"""<schema xmlns="http://www.w3.org/2001/XMLSchema">
  <import namespace="urn:oasis:names:tc:SAML:2.0:protocol"
          schemaLocation="{(_ONELOGIN_SCHEMA_DIR / PROTOCOL_SCHEMA).as_uri()}"/>
  <import namespace="{XMLENC11}" schemaLocation="{(SCHEMA_DIR / "xenc-schema-11.xsd").as_uri()}"/>
</schema>"""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(wrapper, parser))


class NemLogInXML(OneLogin_Saml2_XML):
    """python3-saml's XML helpers, validating SAML protocol messages with the fuller schema set."""

    @staticmethod
    def validate_xml(xml, schema, debug=False):
        if schema != PROTOCOL_SCHEMA:
            return OneLogin_Saml2_XML.validate_xml(xml, schema, debug)
        try:
            xml = OneLogin_Saml2_XML.to_etree(xml)
        except Exception:  # python3-saml's own contract: a code, not an exception
            return "unloaded_xml"
        return xml if protocol_schema().validate(xml) else "invalid_xml"


class NemLogInResponse(OneLogin_Saml2_Response):
    """python3-saml's Response with the accepted algorithms and a decryption that keeps prefixes."""

    def _decrypt_assertion(self, xml):
        key = self._settings.get_sp_key()
        if not key:
            raise OneLogin_Saml2_Error(
                "No private key available to decrypt the assertion, check settings",
                OneLogin_Saml2_Error.PRIVATE_KEY_NOT_FOUND,
            )
        containers = OneLogin_Saml2_XML.query(xml, "/samlp:Response/saml:EncryptedAssertion")
        if not containers:
            return xml
        container = containers[0]
        check_encryption(container)
        encrypted_data = OneLogin_Saml2_XML.query(container, "./xenc:EncryptedData")
        key_info = OneLogin_Saml2_XML.query(container, "./xenc:EncryptedData/ds:KeyInfo")
        if len(encrypted_data) != 1 or not key_info or not len(key_info[0]):
            raise OneLogin_Saml2_ValidationError(
                "No KeyInfo present, invalid Assertion",
                OneLogin_Saml2_ValidationError.KEYINFO_NOT_FOUND_IN_ENCRYPTED_DATA,
            )
        # The key may also sit beside the data, referred to from KeyInfo (as python3-saml allows).
        for retrieval in OneLogin_Saml2_XML.query(key_info[0], "./ds:RetrievalMethod"):
            if retrieval.get("Type") != XMLENC + "EncryptedKey" or not retrieval.get("URI", "").startswith(
                "#"
            ):
                raise OneLogin_Saml2_ValidationError(
                    "Unsupported Retrieval Method found",
                    OneLogin_Saml2_ValidationError.UNSUPPORTED_RETRIEVAL_METHOD,
                )
            referenced = OneLogin_Saml2_XML.query(
                container, "./xenc:EncryptedKey[@Id=$tagid]", None, retrieval.get("URI")[1:]
            )
            if referenced:
                key_info[0].append(referenced[0])

        assertion = OneLogin_Saml2_Utils.decrypt_element(encrypted_data[0], key, inplace=True)
        if (
            not isinstance(assertion, etree._Element)
            or assertion.tag != f"{{{OneLogin_Saml2_Constants.NS_SAML}}}Assertion"
        ):
            raise OneLogin_Saml2_ValidationError(
                "The encrypted data is not an assertion",
                OneLogin_Saml2_ValidationError.WRONG_NUMBER_OF_ASSERTIONS,
            )
        # Serialising the decrypted assertion keeps its own namespace declarations (and adds those it
        # inherits); it replaces a marker in the serialised Response, and the whole is parsed again.
        # No node is moved, so lxml renames no prefix (see the module's docstring).
        marker = etree.ProcessingInstruction("fuldmagt-assertion", uuid.uuid4().hex)
        assertion_xml = etree.tostring(assertion)
        xml.replace(container, marker)
        document = etree.tostring(xml).replace(etree.tostring(marker), assertion_xml, 1)
        return OneLogin_Saml2_XML.to_etree(document)


def install() -> None:
    """Make python3-saml read SAML responses with the rules above (for allauth's SAML views too)."""
    # python3-saml's Response looks up its XML helpers in its own module; its Auth makes responses
    # from ``response_class``, its documented extension point.
    onelogin.saml2.response.OneLogin_Saml2_XML = NemLogInXML
    OneLogin_Saml2_Auth.response_class = NemLogInResponse


# --- The portal's metadata -----------------------------------------------------------------------

#: How long NemLog-in (or anyone) may cache the portal's metadata before fetching it again.
METADATA_CACHE_SECONDS = 24 * 60 * 60


class NemLogInMetadata(OneLogin_Saml2_Metadata):
    """python3-saml's SP metadata with the encryption algorithms the portal accepts in each
    ``<md:KeyDescriptor use="encryption">``: NemLog-in encrypts with what the metadata names."""

    @classmethod
    def add_x509_key_descriptors(cls, metadata, cert=None, add_encryption=True):
        metadata = super().add_x509_key_descriptors(metadata, cert, add_encryption)
        root = OneLogin_Saml2_XML.to_etree(metadata)
        md = OneLogin_Saml2_Constants.NS_MD
        for descriptor in root.iterfind(f".//{{{md}}}KeyDescriptor[@use='encryption']"):
            if descriptor.find(f"{{{md}}}EncryptionMethod") is None:
                for algorithm in ENCRYPTION_METHODS:
                    etree.SubElement(descriptor, f"{{{md}}}EncryptionMethod", Algorithm=algorithm)
        return OneLogin_Saml2_XML.to_string(root)


def metadata_valid_until(certificate_pem: str) -> datetime.datetime:
    """The metadata lasts as long as the certificate it announces (an OCES3 system certificate lasts
    three years; a new one means new metadata anyway)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return certificate.not_valid_after_utc


def sp_metadata(config: dict) -> str:
    """The portal's SP metadata for a python3-saml configuration (as allauth builds it), checked."""
    certificate = config["sp"].get("x509cert", "")
    config = {
        **config,
        "security": {
            **config["security"],
            "metadataValidUntil": metadata_valid_until(OneLogin_Saml2_Utils.format_cert(certificate)),
            "metadataCacheDuration": METADATA_CACHE_SECONDS,
        },
    }
    saml_settings = OneLogin_Saml2_Settings(settings=config, sp_validation_only=True)
    saml_settings.metadata_class = NemLogInMetadata
    metadata = saml_settings.get_sp_metadata()
    errors = saml_settings.validate_metadata(metadata)
    if errors:
        raise OneLogin_Saml2_Error(f"The portal's SAML metadata is not valid: {errors}")
    return metadata.decode() if isinstance(metadata, bytes) else metadata
