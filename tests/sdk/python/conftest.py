"""Shared setup for the auth0-python compatibility suite.

Environment (set by tests/sdk/run.sh or by hand):
  PORTCULLIS_DOMAIN       host:port of the HTTPS listener, no scheme (required)
  PORTCULLIS_CA_FILE      PEM of the CA that signed the server certificate (optional
                          when the certificate is already trusted)
  PORTCULLIS_HTTP_DOMAIN  host:port of the plain-HTTP listener (optional; only the
                          protocol="http" smoke test uses it)
  PORTCULLIS_MFA_DOMAIN   host:port of the separate MFA tenant's HTTPS listener, same CA
                          (optional; test_mfa.py is skipped without it)

auth0-python talks HTTPS through two stacks, each with its own trust settings:
  * auth0.authentication.* and the JWKS fetch of AsymmetricSignatureVerifier use
    `requests`  -> REQUESTS_CA_BUNDLE
  * auth0.management.ManagementClient (Fern client + TokenProvider) uses `httpx`
    -> SSL_CERT_FILE
Both variables are read when a request/client is made, so setting them here is
early enough.
"""

from __future__ import annotations

import os
import uuid

import pytest

CA_FILE = os.environ.get("PORTCULLIS_CA_FILE")
if CA_FILE:
    os.environ.setdefault("REQUESTS_CA_BUNDLE", CA_FILE)
    os.environ.setdefault("SSL_CERT_FILE", CA_FILE)

# Fixed tenant data the server is seeded with (see tests/sdk/README in the report).
SPA_CLIENT_ID = "my-spa"
BACKEND_CLIENT_ID = "backend"
BACKEND_CLIENT_SECRET = "a-long-random-secret"
DB_CONNECTION = "Username-Password-Authentication"
USERNAME_CONNECTION = "with-username"
CLOSED_CONNECTION = "closed"
# The MFA tenant (tests/sdk/portcullis.mfa.toml): Guardian policy "all-applications" with the
# otp and recovery-code factors; "mfa-app" may use the MFA API and the MFA grants.
MFA_CLIENT_ID = "mfa-app"
MFA_CLIENT_SECRET = "mfa-app-long-secret"
# "low" policy plus password_dictionary (10k list + "drawbridge"), password_no_personal_info
# and password_history (size 3).
RULES_CONNECTION = "rules"

# Satisfies Auth0's "good" policy: >= 8 chars and 3 of lower/upper/digit/special.
STRONG_PASSWORD = "Correct-Horse-9-Battery"
OTHER_STRONG_PASSWORD = "Tr0ub4dor&3-Staple-Again"
# "abc" is also in the breached-password corpus: the strength policy must win (as on Auth0).
WEAK_PASSWORD = "abc"
# Two more for the password-history test. None of the four strong passwords is in the
# breached-password corpus (crates/portcullis/data/leaked-passwords.txt.gz) or in the
# 10k dictionary.
THIRD_STRONG_PASSWORD = "Quiet-Lantern-42-River"
FOURTH_STRONG_PASSWORD = "Amber-Falcon-17-Meadow"
# In the compiled-in breached-password corpus, passes the "good" policy and is not in the
# 10k dictionary, so only breached-password detection rejects it.
LEAKED_PASSWORD = "Password123"


@pytest.fixture(scope="session")
def domain() -> str:
    value = os.environ.get("PORTCULLIS_DOMAIN")
    if not value:
        pytest.fail("PORTCULLIS_DOMAIN (host:port, no scheme) must be set")
    return value


@pytest.fixture(scope="session")
def http_domain() -> str:
    value = os.environ.get("PORTCULLIS_HTTP_DOMAIN")
    if not value:
        pytest.skip("PORTCULLIS_HTTP_DOMAIN not set")
    return value


@pytest.fixture(scope="session")
def mfa_domain() -> str:
    value = os.environ.get("PORTCULLIS_MFA_DOMAIN")
    if not value:
        pytest.skip("PORTCULLIS_MFA_DOMAIN not set")
    return value


@pytest.fixture(scope="session")
def issuer(domain: str) -> str:
    return f"https://{domain}/"


@pytest.fixture(scope="session")
def mgmt_audience(domain: str) -> str:
    return f"https://{domain}/api/v2/"


@pytest.fixture
def email() -> str:
    return unique_email()


def unique_email(prefix: str = "py") -> str:
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def unique_username(prefix: str = "py") -> str:
    # Auth0 usernames: 1-15 chars by default, letters/digits/_ - . allowed.
    return f"{prefix}{uuid.uuid4().hex[:10]}"
