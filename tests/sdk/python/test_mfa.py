"""Compatibility tests: MFA with auth0-python against the separate MFA tenant.

The tenant (tests/sdk/portcullis.mfa.toml) has Guardian policy "all-applications" with the
otp and recovery-code factors, so every password login needs a second factor.

auth0-python 6.x has no MFA API methods: it only surfaces the first step.
GetToken.login raises Auth0Error(status_code=403, error_code="mfa_required",
message=<error_description>) and, for mfa_required only, keeps the parsed body in
Auth0Error.content (mfa_token, mfa_requirements). The MFA API (/mfa/associate, /mfa/challenge,
/mfa/authenticators) is driven with `requests`, as Auth0's docs do with curl; the mfa-otp and
mfa-recovery-code grants with `requests` and with GetToken.authenticated_post (auth0-python's
client-secret authentication and Auth0Error mapping). pyotp plays the generic authenticator app.
"""

from __future__ import annotations

import time

import pyotp
import pytest
import requests
from auth0.authentication import Database, GetToken
from auth0.authentication.exceptions import Auth0Error
from auth0.authentication.token_verifier import (
    AsymmetricSignatureVerifier,
    TokenVerifier,
)

from conftest import (
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    DB_CONNECTION,
    MFA_CLIENT_ID,
    MFA_CLIENT_SECRET,
    SPA_CLIENT_ID,
    STRONG_PASSWORD,
    unique_email,
)

MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
MFA_RECOVERY_CODE = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
UNKNOWN_RECOVERY_CODE = "AAAABBBBCCCCDDDDEEEEFFFF"
INVALID_OTP = {"error": "invalid_grant", "error_description": "Invalid otp_code."}
REJECTED_RECOVERY_CODE = {"error": "invalid_grant", "error_description": "MFA Authorization rejected."}
MALFORMED_MFA_TOKEN = {"error": "invalid_grant", "error_description": "Malformed mfa_token"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def base(mfa_domain: str) -> str:
    return f"https://{mfa_domain}"


@pytest.fixture(scope="session")
def mfa_app(mfa_domain: str) -> GetToken:
    return GetToken(mfa_domain, MFA_CLIENT_ID, client_secret=MFA_CLIENT_SECRET)


@pytest.fixture(scope="session")
def verifier(mfa_domain: str) -> TokenVerifier:
    sv = AsymmetricSignatureVerifier(f"https://{mfa_domain}/.well-known/jwks.json")
    return TokenVerifier(
        signature_verifier=sv, issuer=f"https://{mfa_domain}/", audience=MFA_CLIENT_ID,
    )


@pytest.fixture
def user(mfa_domain: str) -> str:
    email = unique_email("py-mfa")
    Database(mfa_domain, SPA_CLIENT_ID).signup(
        email=email, password=STRONG_PASSWORD, connection=DB_CONNECTION,
    )
    return email


def _mfa_required(client: GetToken, email: str) -> Auth0Error:
    with pytest.raises(Auth0Error) as exc:
        client.login(
            username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION,
            scope="openid profile email",
        )
    return exc.value


def _mfa_token(client: GetToken, email: str) -> str:
    err = _mfa_required(client, email)
    assert err.error_code == "mfa_required", (err.status_code, err.error_code, err.message)
    return err.content["mfa_token"]


def _associate(base: str, mfa_token: str) -> requests.Response:
    return requests.post(
        f"{base}/mfa/associate",
        headers={"Authorization": f"Bearer {mfa_token}"},
        json={"authenticator_types": ["otp"]},
        timeout=10,
    )


def _challenge(base: str, mfa_token: str) -> requests.Response:
    return requests.post(
        f"{base}/mfa/challenge",
        json={
            "client_id": MFA_CLIENT_ID,
            "client_secret": MFA_CLIENT_SECRET,
            "mfa_token": mfa_token,
            "challenge_type": "otp",
        },
        timeout=10,
    )


def _authenticators(base: str, mfa_token: str) -> requests.Response:
    return requests.get(
        f"{base}/mfa/authenticators",
        headers={"Authorization": f"Bearer {mfa_token}"},
        timeout=10,
    )


def _grant(base: str, grant_type: str, mfa_token: str, **fields: str) -> requests.Response:
    return requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": grant_type,
            "client_id": MFA_CLIENT_ID,
            "client_secret": MFA_CLIENT_SECRET,
            "mfa_token": mfa_token,
            **fields,
        },
        timeout=10,
    )


def _now_with_step(totp: pyotp.TOTP) -> tuple[str, int]:
    """totp.now() and the 30 s step it belongs to."""
    step = totp.timecode(time.time())
    code = totp.now()
    if code != totp.at(step * totp.interval):
        step += 1  # the step rolled over in between
    assert code == totp.at(step * totp.interval)
    return code, step


def _wrong_code(totp: pyotp.TOTP) -> str:
    """A 6-digit code that none of the steps the server accepts now (±1) produces."""
    valid = {totp.now()} | {totp.at(time.time(), counter_offset=d) for d in (-2, -1, 1, 2)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def _enrolled(base: str, mfa_app: GetToken, email: str) -> tuple[pyotp.TOTP, str, int]:
    """Enroll OTP for `email` and confirm it; returns the app, the recovery code, the step used."""
    token = _mfa_token(mfa_app, email)
    enrollment = _associate(base, token).json()
    totp = pyotp.TOTP(enrollment["secret"])
    code, step = _now_with_step(totp)
    resp = _grant(base, MFA_OTP, token, otp=code)
    assert resp.status_code == 200, resp.text
    return totp, enrollment["recovery_codes"][0], step


# --------------------------------------------------------------------------- GetToken.login -> mfa_required


def test_login_raises_mfa_required_with_the_body_in_content(mfa_app, user):
    err = _mfa_required(mfa_app, user)
    assert err.status_code == 403
    assert err.error_code == "mfa_required"
    assert err.message == "Multifactor authentication required"
    body = err.content
    assert isinstance(body, dict), body
    assert body["mfa_token"].startswith("mfa_")
    assert body == {
        "error": "mfa_required",
        "error_description": "Multifactor authentication required",
        "mfa_token": body["mfa_token"],
        "mfa_requirements": {"enroll": [{"type": "otp"}]},
    }


def test_client_without_mfa_grants_gets_mfa_registration_required(mfa_domain, user):
    backend = GetToken(mfa_domain, BACKEND_CLIENT_ID, client_secret=BACKEND_CLIENT_SECRET)
    err = _mfa_required(backend, user)
    assert err.status_code == 403
    assert err.error_code == "mfa_registration_required"
    assert err.message == "Multifactor authentication required"
    # auth0-python keeps the body (and so the mfa_token) only for mfa_required.
    assert err.content is None


# --------------------------------------------------------------------------- enroll + mfa-otp grant


def test_enroll_with_pyotp_and_the_otp_grant(base, mfa_app, verifier, user):
    token = _mfa_token(mfa_app, user)

    resp = _associate(base, token)
    assert resp.status_code == 200, resp.text
    enrollment = resp.json()
    assert set(enrollment) == {"authenticator_type", "secret", "barcode_uri", "recovery_codes"}
    assert enrollment["authenticator_type"] == "otp"
    secret = enrollment["secret"]
    assert len(enrollment["recovery_codes"]) == 1
    assert len(enrollment["recovery_codes"][0]) == 24
    assert enrollment["recovery_codes"][0].isalnum()

    # What an authenticator app reads from the QR code.
    scanned = pyotp.parse_uri(enrollment["barcode_uri"])
    assert isinstance(scanned, pyotp.TOTP)
    assert scanned.secret == secret
    assert scanned.issuer == "portcullis"
    assert scanned.name == user
    assert (scanned.digits, scanned.interval) == (6, 30)
    totp = pyotp.TOTP(secret)

    resp = _challenge(base, token)
    assert (resp.status_code, resp.json()) == (200, {"challenge_type": "otp"})

    resp = _grant(base, MFA_OTP, token, otp=_wrong_code(totp))
    assert (resp.status_code, resp.json()) == (403, INVALID_OTP)

    code, step = _now_with_step(totp)
    resp = _grant(base, MFA_OTP, token, otp=code)
    assert resp.status_code == 200, resp.text
    tokens = resp.json()
    assert tokens["access_token"]
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] > 0
    assert tokens["scope"] == "openid profile email"
    assert "recovery_code" not in tokens
    claims = verifier.verify(tokens["id_token"])
    assert claims["email"] == user
    assert claims["sub"].startswith("auth0|")

    # The mfa_token stood for one login.
    resp = _grant(base, MFA_OTP, token, otp=totp.at((step + 1) * 30))
    assert (resp.status_code, resp.json()) == (403, MALFORMED_MFA_TOKEN)

    # Enrolled now: the next login is challenged.
    err = _mfa_required(mfa_app, user)
    assert err.error_code == "mfa_required"
    assert err.content["mfa_requirements"] == {"challenge": [{"type": "otp"}]}
    second = err.content["mfa_token"]
    assert second != token

    resp = _associate(base, second)
    assert (resp.status_code, resp.json()) == (
        403, {"error": "access_denied", "error_description": "User is already enrolled"},
    )

    resp = _authenticators(base, second)
    assert resp.status_code == 200, resp.text
    listed = sorted(resp.json(), key=lambda a: a["authenticator_type"])
    assert [a["authenticator_type"] for a in listed] == ["otp", "recovery-code"]
    assert listed[0]["id"].startswith("totp|dev_")
    assert listed[1]["id"].startswith("recovery-code|dev_")
    assert all(a["active"] is True for a in listed), listed

    # The code already accepted (same step) is a replay; the next step's code is accepted.
    resp = _grant(base, MFA_OTP, second, otp=code)
    assert (resp.status_code, resp.json()) == (403, INVALID_OTP)
    resp = _grant(base, MFA_OTP, second, otp=totp.at((step + 1) * 30))
    assert resp.status_code == 200, resp.text
    assert verifier.verify(resp.json()["id_token"])["sub"] == claims["sub"]


def _otp_grant_via_sdk(mfa_app: GetToken, mfa_token: str, otp: str):
    """The mfa-otp grant as GetToken's own grants send it (JSON body; authenticated_post adds
    client_secret, the caller client_id)."""
    return mfa_app.authenticated_post(
        f"{mfa_app.protocol}://{mfa_app.domain}/oauth/token",
        data={
            "client_id": mfa_app.client_id,
            "grant_type": MFA_OTP,
            "mfa_token": mfa_token,
            "otp": otp,
        },
    )


def test_otp_grant_through_auth0_python(base, mfa_app, verifier, user):
    totp, _, step = _enrolled(base, mfa_app, user)
    token = _mfa_token(mfa_app, user)

    with pytest.raises(Auth0Error) as exc:
        _otp_grant_via_sdk(mfa_app, token, _wrong_code(totp))
    assert (exc.value.status_code, exc.value.error_code, exc.value.message) == (
        403, "invalid_grant", "Invalid otp_code.",
    )

    tokens = _otp_grant_via_sdk(mfa_app, token, totp.at((step + 1) * 30))
    assert verifier.verify(tokens["id_token"])["email"] == user


# --------------------------------------------------------------------------- mfa-recovery-code grant


def test_recovery_code_grant_renews_the_code(base, mfa_app, verifier, user):
    _, recovery_code, _ = _enrolled(base, mfa_app, user)
    token = _mfa_token(mfa_app, user)

    resp = _grant(base, MFA_RECOVERY_CODE, token, recovery_code=UNKNOWN_RECOVERY_CODE)
    assert (resp.status_code, resp.json()) == (403, REJECTED_RECOVERY_CODE)

    resp = _grant(base, MFA_RECOVERY_CODE, token, recovery_code=recovery_code)
    assert resp.status_code == 200, resp.text
    tokens = resp.json()
    assert verifier.verify(tokens["id_token"])["email"] == user
    renewed = tokens["recovery_code"]
    assert len(renewed) == 24 and renewed.isalnum()
    assert renewed != recovery_code

    token = _mfa_token(mfa_app, user)
    resp = _grant(base, MFA_RECOVERY_CODE, token, recovery_code=recovery_code)
    assert (resp.status_code, resp.json()) == (403, REJECTED_RECOVERY_CODE), "spent"
    resp = _grant(base, MFA_RECOVERY_CODE, token, recovery_code=renewed)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["recovery_code"]) == 24


# --------------------------------------------------------------------------- malformed mfa_token


def test_malformed_mfa_token_is_refused_everywhere(base, mfa_app):
    for resp in (
        _associate(base, "garbage"),
        _challenge(base, "garbage"),
        _authenticators(base, "garbage"),
        _grant(base, MFA_OTP, "garbage", otp="123456"),
        _grant(base, MFA_RECOVERY_CODE, "garbage", recovery_code=UNKNOWN_RECOVERY_CODE),
    ):
        assert (resp.status_code, resp.json()) == (403, MALFORMED_MFA_TOKEN), resp.url

    with pytest.raises(Auth0Error) as exc:
        _otp_grant_via_sdk(mfa_app, "garbage", "123456")
    assert (exc.value.status_code, exc.value.error_code, exc.value.message) == (
        403, "invalid_grant", "Malformed mfa_token",
    )
