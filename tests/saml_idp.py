"""The tests' throwaway IdP: ``portal.dev_idp`` with a fixed entity id, made once per test run."""

from __future__ import annotations

from functools import cache

from portal.dev_idp import NS_SAML, NS_SAMLP, AuthnRequest, IdentityProvider, new_key_and_certificate

__all__ = ["NS_SAML", "NS_SAMLP", "AuthnRequest", "TestIdentityProvider", "key_and_certificate"]


@cache
def key_and_certificate(common_name: str) -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate (PEM), made once per test run and name."""
    return new_key_and_certificate(common_name)


class TestIdentityProvider(IdentityProvider):
    __test__ = False  # not a pytest test class

    def __init__(self, *, sp_certificate: str, sp_entity_id: str, sp_host: str) -> None:
        key, certificate = key_and_certificate("Test NemLog-in IdP")
        super().__init__(
            key=key,
            certificate=certificate,
            entity_id="https://saml.test-idp.example/",
            sso_url="https://saml.test-idp.example/sso",
            sp_certificate=sp_certificate,
            sp_entity_id=sp_entity_id,
            sp_host=sp_host,
        )
