"""Compatibility tests: the official auth0-python SDK against a running Portcullis.

Library surface exercised (auth0-python 6.x, pinned in requirements.txt):
  auth0.authentication.Database.signup
  auth0.authentication.GetToken.login / .client_credentials
  auth0.authentication.Users.userinfo
  auth0.authentication.token_verifier.TokenVerifier + AsymmetricSignatureVerifier
  auth0.authentication.exceptions.Auth0Error
  auth0.management.ManagementClient (.users.create/get/list/update/delete/
      list_users_by_email, .user_blocks.list/delete/list_by_identifier/
      delete_by_identifier, .logs.list/get), auth0.management.errors.*
Password rules (dictionary, personal info, history) and breached-password detection:
Database.signup, GetToken.login and users.update.
Brute-force protection (max_attempts 3): GetToken.login -> RateLimitError, user_blocks.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from auth0.authentication import Database, GetToken, Users
from auth0.authentication.exceptions import Auth0Error, RateLimitError
from auth0.authentication.token_verifier import (
    AsymmetricSignatureVerifier,
    TokenVerifier,
)
from auth0.management import ManagementClient
from auth0.management.core.api_error import ApiError
from auth0.management.errors import BadRequestError, ConflictError, NotFoundError

from conftest import (
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    CLOSED_CONNECTION,
    DB_CONNECTION,
    FOURTH_STRONG_PASSWORD,
    LEAKED_PASSWORD,
    OTHER_STRONG_PASSWORD,
    RULES_CONNECTION,
    SPA_CLIENT_ID,
    STRONG_PASSWORD,
    THIRD_STRONG_PASSWORD,
    USERNAME_CONNECTION,
    WEAK_PASSWORD,
    unique_email,
    unique_username,
)

PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def db(domain: str) -> Database:
    return Database(domain, SPA_CLIENT_ID)


@pytest.fixture(scope="session")
def spa_token(domain: str) -> GetToken:
    return GetToken(domain, SPA_CLIENT_ID)


@pytest.fixture(scope="session")
def backend_token(domain: str) -> GetToken:
    return GetToken(domain, BACKEND_CLIENT_ID, client_secret=BACKEND_CLIENT_SECRET)


@pytest.fixture(scope="session")
def mgmt(domain: str):
    """ManagementClient that fetches its own token (client_credentials via TokenProvider)."""
    client = ManagementClient(
        domain=domain,
        client_id=BACKEND_CLIENT_ID,
        client_secret=BACKEND_CLIENT_SECRET,
        timeout=30,
    )
    created: list[str] = []
    client.portcullis_created = created  # type: ignore[attr-defined]
    yield client
    for user_id in created:  # best-effort cleanup
        try:
            client.users.delete(user_id)
        except Exception:
            pass


@pytest.fixture(scope="session")
def discovery(domain: str) -> dict:
    resp = requests.get(f"https://{domain}/.well-known/openid-configuration", timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _verifier(domain: str, issuer: str, audience: str) -> TokenVerifier:
    sv = AsymmetricSignatureVerifier(f"https://{domain}/.well-known/jwks.json")
    return TokenVerifier(signature_verifier=sv, issuer=issuer, audience=audience)


def _signup(db: Database, email: str, password: str = STRONG_PASSWORD) -> dict:
    return db.signup(email=email, password=password, connection=DB_CONNECTION)


def _user_id_by_email(mgmt: ManagementClient, email: str) -> str:
    users = mgmt.users.list_users_by_email(email=email)
    assert len(users) == 1, users
    return users[0].user_id


def _login(spa_token: GetToken, email: str, password: str = STRONG_PASSWORD) -> dict:
    return spa_token.login(username=email, password=password, realm=DB_CONNECTION, scope="openid")


# --------------------------------------------------------------------------- discovery


def test_openid_configuration_matches_auth0_layout(domain, issuer, discovery):
    assert discovery["issuer"] == issuer
    assert discovery["jwks_uri"] == f"https://{domain}/.well-known/jwks.json"
    assert discovery["token_endpoint"] == f"https://{domain}/oauth/token"
    assert discovery["userinfo_endpoint"] == f"https://{domain}/userinfo"
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]


# --------------------------------------------------------------------------- signup


def test_signup_success(db, email):
    result = _signup(db, email)
    assert result["email"] == email
    # Auth0's /dbconnections/signup answers {"_id", "email", "email_verified", ...}
    assert result.get("_id"), result
    assert result.get("email_verified") is False


def test_signup_duplicate_is_user_exists(db, email):
    _signup(db, email)
    with pytest.raises(Auth0Error) as exc:
        _signup(db, email)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "user_exists"


def test_signup_username_taken_is_username_exists(db):
    username = unique_username()
    first = db.signup(
        email=unique_email(), password=STRONG_PASSWORD,
        connection=USERNAME_CONNECTION, username=username,
    )
    assert first.get("username") == username
    with pytest.raises(Auth0Error) as exc:
        db.signup(
            email=unique_email(), password=STRONG_PASSWORD,
            connection=USERNAME_CONNECTION, username=username,
        )
    assert exc.value.status_code == 400
    assert exc.value.error_code == "username_exists"


def test_signup_disabled_connection_is_unauthorized(db, email):
    with pytest.raises(Auth0Error) as exc:
        db.signup(email=email, password=STRONG_PASSWORD, connection=CLOSED_CONNECTION)
    assert 400 <= exc.value.status_code < 500
    assert exc.value.error_code == "unauthorized"


def test_signup_weak_password_is_invalid_password(db, email):
    with pytest.raises(Auth0Error) as exc:
        _signup(db, email, password=WEAK_PASSWORD)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "invalid_password"
    # auth0-python takes the message from the body's "message" field.
    assert exc.value.message == "Password is too weak"


# --------------------------------------------------------------------------- /oauth/token


def test_login_password_realm_and_verify_id_token(db, spa_token, domain, issuer, email):
    signed_up = _signup(db, email)
    tokens = spa_token.login(
        username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION,
        scope="openid profile email",
    )
    assert tokens["access_token"]
    assert tokens["token_type"].lower() == "bearer"
    assert isinstance(tokens["expires_in"], int) and tokens["expires_in"] > 0
    claims = _verifier(domain, issuer, SPA_CLIENT_ID).verify(tokens["id_token"])
    assert claims["iss"] == issuer
    assert claims["email"] == email
    assert claims["sub"].startswith("auth0|")
    assert claims["sub"].endswith(signed_up["_id"])


def test_login_plain_password_grant_confidential_client(db, backend_token, domain, issuer, email):
    _signup(db, email)
    tokens = backend_token.login(
        username=email, password=STRONG_PASSWORD, grant_type="password",
        scope="openid profile email",
    )
    claims = _verifier(domain, issuer, BACKEND_CLIENT_ID).verify(tokens["id_token"])
    assert claims["email"] == email


def test_login_password_realm_confidential_client(db, backend_token, domain, issuer, email):
    _signup(db, email)
    tokens = backend_token.login(
        username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION,
        scope="openid", grant_type=PASSWORD_REALM,
    )
    claims = _verifier(domain, issuer, BACKEND_CLIENT_ID).verify(tokens["id_token"])
    assert claims["sub"].startswith("auth0|")


def test_login_wrong_password_is_invalid_grant(db, spa_token, email):
    _signup(db, email)
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(
            username=email, password=STRONG_PASSWORD + "x", realm=DB_CONNECTION,
            scope="openid",
        )
    assert exc.value.status_code == 403
    assert exc.value.error_code == "invalid_grant"
    assert exc.value.message == "Wrong email or password."


def test_login_unknown_user_is_invalid_grant(spa_token):
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(
            username=unique_email(), password=STRONG_PASSWORD, realm=DB_CONNECTION,
            scope="openid",
        )
    assert exc.value.status_code == 403
    assert exc.value.error_code == "invalid_grant"


def test_blocked_user_cannot_log_in(db, spa_token, mgmt, email):
    _signup(db, email)
    user_id = _user_id_by_email(mgmt, email)
    mgmt.portcullis_created.append(user_id)

    updated = mgmt.users.update(user_id, blocked=True)
    assert updated.blocked is True
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert exc.value.status_code == 401
    assert exc.value.error_code == "unauthorized"
    assert exc.value.message == "user is blocked"

    mgmt.users.update(user_id, blocked=False)
    tokens = spa_token.login(username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert tokens["access_token"]


# --------------------------------------------------------------------------- /userinfo


def test_userinfo(db, spa_token, domain, issuer, email):
    _signup(db, email)
    tokens = spa_token.login(
        username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION,
        scope="openid profile email",
    )
    claims = _verifier(domain, issuer, SPA_CLIENT_ID).verify(tokens["id_token"])
    profile = Users(domain).userinfo(tokens["access_token"])
    assert profile["sub"] == claims["sub"]
    assert profile["email"] == email


def test_userinfo_rejects_garbage_token(domain):
    with pytest.raises(Auth0Error) as exc:
        Users(domain).userinfo("not-a-token")
    assert exc.value.status_code == 401


# --------------------------------------------------------------------------- client_credentials + Management API


def test_client_credentials_token_drives_management_client(backend_token, domain, mgmt_audience, db, email):
    grant = backend_token.client_credentials(audience=mgmt_audience)
    assert grant["access_token"]
    assert grant["token_type"].lower() == "bearer"
    assert grant["expires_in"] > 0
    assert "read:users" in grant.get("scope", "").split()

    _signup(db, email)
    client = ManagementClient(domain=domain, token=grant["access_token"])
    found = client.users.list_users_by_email(email=email)
    assert [u.email for u in found] == [email]


def test_client_credentials_wrong_secret_rejected(domain, mgmt_audience):
    bad = GetToken(domain, BACKEND_CLIENT_ID, client_secret="wrong-secret")
    with pytest.raises(Auth0Error) as exc:
        bad.client_credentials(audience=mgmt_audience)
    assert exc.value.status_code == 401
    assert exc.value.error_code == "access_denied"


def test_management_api_rejects_missing_token(domain):
    client = ManagementClient(domain=domain, token="not-a-token")
    with pytest.raises(ApiError) as exc:
        client.users.get("auth0|does-not-matter")
    assert exc.value.status_code == 401


def test_management_users_crud(mgmt, spa_token, email):
    created = mgmt.users.create(
        connection=DB_CONNECTION, email=email, password=STRONG_PASSWORD,
        email_verified=True, user_metadata={"plan": "free"},
    )
    user_id = created.user_id
    mgmt.portcullis_created.append(user_id)
    assert user_id and user_id.startswith("auth0|")
    assert created.email == email
    assert created.email_verified is True
    assert created.identities and created.identities[0].connection == DB_CONNECTION

    fetched = mgmt.users.get(user_id)
    assert fetched.user_id == user_id
    assert fetched.email == email
    assert fetched.user_metadata and fetched.user_metadata.get("plan") == "free"

    # q / search (Lucene, v3 syntax); the SDK always sends page, per_page, include_totals.
    page = mgmt.users.list(q=f'email:"{email}"', per_page=10)
    assert [u.user_id for u in page.items] == [user_id]
    assert page.response.total == 1

    by_email = mgmt.users.list_users_by_email(email=email)
    assert [u.user_id for u in by_email] == [user_id]

    updated = mgmt.users.update(user_id, user_metadata={"plan": "pro"}, name="Py Tester")
    assert updated.name == "Py Tester"
    assert updated.user_metadata and updated.user_metadata.get("plan") == "pro"

    # Password change through PATCH; the old password stops working.
    mgmt.users.update(user_id, password=OTHER_STRONG_PASSWORD, connection=DB_CONNECTION)
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert exc.value.error_code == "invalid_grant"
    assert spa_token.login(
        username=email, password=OTHER_STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid",
    )["access_token"]

    blocked = mgmt.users.update(user_id, blocked=True)
    assert blocked.blocked is True
    assert mgmt.users.get(user_id).blocked is True

    assert mgmt.users.delete(user_id) is None
    mgmt.portcullis_created.remove(user_id)
    with pytest.raises(NotFoundError):
        mgmt.users.get(user_id)
    assert mgmt.users.list_users_by_email(email=email) == []


def test_management_create_duplicate_is_conflict(mgmt, email):
    created = mgmt.users.create(connection=DB_CONNECTION, email=email, password=STRONG_PASSWORD)
    mgmt.portcullis_created.append(created.user_id)
    with pytest.raises(ConflictError) as exc:
        mgmt.users.create(connection=DB_CONNECTION, email=email, password=STRONG_PASSWORD)
    assert exc.value.status_code == 409


def test_management_list_paging(mgmt):
    for _ in range(2):
        created = mgmt.users.create(
            connection=DB_CONNECTION, email=unique_email("py-page"), password=STRONG_PASSWORD,
        )
        mgmt.portcullis_created.append(created.user_id)

    first = mgmt.users.list(page=0, per_page=1, include_totals=True)
    assert len(first.items) == 1
    assert first.response.start == 0
    assert first.response.limit == 1
    assert first.response.length == 1
    assert first.response.total >= 2

    second = first.next_page()
    assert second is not None and len(second.items) == 1
    assert second.response.start == 1
    assert second.items[0].user_id != first.items[0].user_id


# --------------------------------------------------------------------------- password rules (connection "rules")
#
# auth0-python surfaces a /dbconnections error as Auth0Error(error_code=body["code"],
# message=body["message"]); the Management API's 400 as BadRequestError(body=<the JSON>).

PASSWORD_HISTORY_ERROR = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "PasswordHistoryError: Password has previously been used",
}
PASSWORD_DICTIONARY_ERROR = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "PasswordDictionaryError: Password is too common",
}
PASSWORD_NO_USER_INFO_ERROR = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "PasswordNoUserInfoError: Password contains user information",
}
PASSWORD_LEAKED_ERROR = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "PasswordLeakedError: Password has been found in a data breach",
    "errorCode": "password_leaked",
}


def _create_rules_user(mgmt: ManagementClient, email: str, password: str = STRONG_PASSWORD) -> str:
    created = mgmt.users.create(connection=RULES_CONNECTION, email=email, password=password)
    mgmt.portcullis_created.append(created.user_id)
    return created.user_id


def _set_password_rejected(mgmt: ManagementClient, user_id: str, password: str, connection: str) -> dict:
    with pytest.raises(BadRequestError) as exc:
        mgmt.users.update(user_id, password=password, connection=connection)
    assert exc.value.status_code == 400
    return exc.value.body


@pytest.mark.parametrize("password", ["Drawbridge", "password1"])
def test_signup_dictionary_word_is_password_dictionary_error(db, email, password):
    # "password1" is from the 10k list (and also breached: the dictionary rule wins);
    # "Drawbridge" is the connection's own entry, matched case-insensitively.
    with pytest.raises(Auth0Error) as exc:
        db.signup(email=email, password=password, connection=RULES_CONNECTION)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "invalid_password"
    assert exc.value.message == "Password is too common"


def test_signup_personal_info_is_password_no_user_info_error(db, email):
    local = email.split("@")[0]
    with pytest.raises(Auth0Error) as exc:
        db.signup(email=email, password=f"{local.upper()}-9", connection=RULES_CONNECTION)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "invalid_password"
    assert exc.value.message == "Password contains user information"


def test_signup_rules_connection_accepts_other_password(db, spa_token, email):
    result = db.signup(email=email, password=STRONG_PASSWORD, connection=RULES_CONNECTION)
    assert result["email"] == email
    assert spa_token.login(
        username=email, password=STRONG_PASSWORD, realm=RULES_CONNECTION, scope="openid",
    )["access_token"]


def test_update_password_history(db, mgmt, spa_token, email):
    db.signup(email=email, password=STRONG_PASSWORD, connection=RULES_CONNECTION)
    user_id = _user_id_by_email(mgmt, email)
    mgmt.portcullis_created.append(user_id)

    def change(password):
        mgmt.users.update(user_id, password=password, connection=RULES_CONNECTION)

    def rejected(password):
        return _set_password_rejected(mgmt, user_id, password, RULES_CONNECTION)

    # size 3 = the current password and the two before it.
    assert rejected(STRONG_PASSWORD) == PASSWORD_HISTORY_ERROR  # current
    change(OTHER_STRONG_PASSWORD)
    change(THIRD_STRONG_PASSWORD)
    assert rejected(STRONG_PASSWORD) == PASSWORD_HISTORY_ERROR  # two changes ago
    assert rejected(OTHER_STRONG_PASSWORD) == PASSWORD_HISTORY_ERROR  # previous
    # A rejected change leaves the current password in place.
    assert spa_token.login(
        username=email, password=THIRD_STRONG_PASSWORD, realm=RULES_CONNECTION, scope="openid",
    )["access_token"]
    change(FOURTH_STRONG_PASSWORD)
    change(STRONG_PASSWORD)  # three changes ago: out of the history again
    assert spa_token.login(
        username=email, password=STRONG_PASSWORD, realm=RULES_CONNECTION, scope="openid",
    )["access_token"]


def test_update_password_dictionary_and_personal_info(mgmt, email):
    user_id = _create_rules_user(mgmt, email)
    assert _set_password_rejected(mgmt, user_id, "drawbridge", RULES_CONNECTION) == PASSWORD_DICTIONARY_ERROR
    local = email.split("@")[0]
    assert (
        _set_password_rejected(mgmt, user_id, f"x-{local}-x", RULES_CONNECTION)
        == PASSWORD_NO_USER_INFO_ERROR
    )


# --------------------------------------------------------------------------- breached-password detection


def test_signup_leaked_password_is_password_leaked(db, email):
    with pytest.raises(Auth0Error) as exc:
        _signup(db, email, password=LEAKED_PASSWORD)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "password_leaked"
    # The body has only "description", no "message"/"error"/"error_description", so
    # auth0-python's message is empty.
    assert exc.value.message == ""


def test_update_leaked_password_is_password_leaked(mgmt, spa_token, email):
    created = mgmt.users.create(connection=DB_CONNECTION, email=email, password=STRONG_PASSWORD)
    mgmt.portcullis_created.append(created.user_id)
    assert (
        _set_password_rejected(mgmt, created.user_id, LEAKED_PASSWORD, DB_CONNECTION)
        == PASSWORD_LEAKED_ERROR
    )
    assert spa_token.login(
        username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid",
    )["access_token"]


def test_login_with_leaked_password_is_blocked(mgmt, spa_token, email):
    # POST /api/v2/users does not screen breached passwords; login does.
    created = mgmt.users.create(connection=DB_CONNECTION, email=email, password=LEAKED_PASSWORD)
    mgmt.portcullis_created.append(created.user_id)
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(username=email, password=LEAKED_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert exc.value.status_code == 401
    assert exc.value.error_code == "password_leaked"
    assert exc.value.message == (
        "This login attempt has been blocked because the password you're using was "
        "previously disclosed through a data breach (not in this application)."
    )


# --------------------------------------------------------------------------- plain-HTTP listener (protocol="http")


def test_authentication_over_plain_http(http_domain):
    email = unique_email("py-http")
    Database(http_domain, SPA_CLIENT_ID, protocol="http").signup(
        email=email, password=STRONG_PASSWORD, connection=DB_CONNECTION,
    )
    tokens = GetToken(http_domain, SPA_CLIENT_ID, protocol="http").login(
        username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid email",
    )
    profile = Users(http_domain, protocol="http").userinfo(tokens["access_token"])
    assert profile["email"] == email


# --------------------------------------------------------------------------- brute-force protection
#
# max_attempts = 3, shields block + user_notification. Counters are per identifier and IP
# (every test connects from 127.0.0.1), so each test uses a fresh e-mail.
#
# auth0-python raises RateLimitError (an Auth0Error) for any 429: status_code 429,
# error_code = body["error"], message = body["error_description"], reset_at = the
# X-RateLimit-Reset header or -1 when absent; the body itself is not kept (content None).

TOO_MANY_ATTEMPTS_DESCRIPTION = (
    "Your account has been blocked after multiple consecutive login attempts. "
    "We've sent you an email with instructions on how to unblock it."
)
WRONG_PASSWORD = STRONG_PASSWORD + "x"


def _fail_logins(spa_token: GetToken, email: str, times: int = 3) -> None:
    for _ in range(times):
        with pytest.raises(Auth0Error) as exc:
            _login(spa_token, email, WRONG_PASSWORD)
        assert not isinstance(exc.value, RateLimitError)
        assert exc.value.status_code == 403
        assert exc.value.error_code == "invalid_grant"


def _assert_too_many_attempts(spa_token: GetToken, email: str, password: str = STRONG_PASSWORD) -> None:
    with pytest.raises(RateLimitError) as exc:
        _login(spa_token, email, password)
    err = exc.value
    assert err.status_code == 429
    assert err.error_code == "too_many_attempts"
    assert err.message == TOO_MANY_ATTEMPTS_DESCRIPTION
    assert err.reset_at == -1  # no X-RateLimit-Reset header on a brute-force block
    assert err.content is None


def _blocked_for(email: str) -> dict:
    return {
        "blocked_for": [
            {"identifier": email.lower(), "connection": DB_CONNECTION, "ip": "127.0.0.1"},
        ]
    }


def test_brute_force_third_failure_blocks_even_the_right_password(db, spa_token, email):
    _signup(db, email)
    _fail_logins(spa_token, email)
    _assert_too_many_attempts(spa_token, email)
    _assert_too_many_attempts(spa_token, email, WRONG_PASSWORD)


def test_brute_force_success_resets_the_count(db, spa_token, email):
    _signup(db, email)
    _fail_logins(spa_token, email, times=2)
    assert _login(spa_token, email)["access_token"]
    _fail_logins(spa_token, email, times=2)
    assert _login(spa_token, email)["access_token"], "count restarted after the success"


def test_user_blocks_by_user_id(db, spa_token, mgmt, email):
    _signup(db, email)
    user_id = _user_id_by_email(mgmt, email)
    mgmt.portcullis_created.append(user_id)
    assert mgmt.user_blocks.list(user_id).dict() == {"blocked_for": []}

    _fail_logins(spa_token, email)
    _assert_too_many_attempts(spa_token, email)
    blocks = mgmt.user_blocks.list(user_id)
    assert blocks.dict() == _blocked_for(email)
    assert blocks.blocked_for[0].identifier == email
    assert blocks.blocked_for[0].ip == "127.0.0.1"

    # The block is logged as limit_wc for the user.
    limit_wc = mgmt.logs.list(search=f'type:"limit_wc" AND user_id:"{user_id}"')
    assert [(e.type, e.user_id) for e in limit_wc.items] == [("limit_wc", user_id)]

    deleted = mgmt.user_blocks.with_raw_response.delete(user_id)
    assert deleted.status_code == 204
    assert deleted.data is None
    assert mgmt.user_blocks.list(user_id).dict() == {"blocked_for": []}
    assert _login(spa_token, email)["access_token"]


def test_user_blocks_by_identifier(db, spa_token, mgmt):
    # Mixed case: the block is kept (and reported) under the lower-cased e-mail.
    email = unique_email("Py-BF")
    _signup(db, email)
    mgmt.portcullis_created.append(_user_id_by_email(mgmt, email.lower()))
    assert mgmt.user_blocks.list_by_identifier(identifier=email).dict() == {"blocked_for": []}

    _fail_logins(spa_token, email)
    _assert_too_many_attempts(spa_token, email)
    assert mgmt.user_blocks.list_by_identifier(identifier=email).dict() == _blocked_for(email)
    assert mgmt.user_blocks.list_by_identifier(identifier=email.lower()).dict() == _blocked_for(email)

    deleted = mgmt.user_blocks.with_raw_response.delete_by_identifier(identifier=email)
    assert deleted.status_code == 204
    assert mgmt.user_blocks.list_by_identifier(identifier=email).dict() == {"blocked_for": []}
    assert _login(spa_token, email)["access_token"]


def test_user_blocks_unknown_user_is_not_found(mgmt):
    with pytest.raises(NotFoundError) as exc:
        mgmt.user_blocks.list("auth0|does-not-exist")
    assert exc.value.status_code == 404


# --------------------------------------------------------------------------- tenant logs
#
# logs.list sends page, per_page (50), include_totals (true) and the search criteria as
# "search" (the server takes it like "q"); extra parameters go through request_options.

LOG_FIELDS = {
    "log_id", "date", "type", "description", "client_id", "client_name", "ip",
    "user_id", "user_name", "connection", "details",
}


def test_logs_signup_and_failed_login(db, spa_token, mgmt, domain, email):
    signed_up = _signup(db, email)
    user_id = f"auth0|{signed_up['_id']}"
    mgmt.portcullis_created.append(user_id)
    with pytest.raises(Auth0Error):
        _login(spa_token, email, WRONG_PASSWORD)

    # Newest first by default.
    page = mgmt.logs.list(search=f'user_id:"{user_id}"')
    assert [e.type for e in page.items] == ["fp", "ss"]
    assert page.response.start == 0
    assert page.response.limit == 50
    assert page.response.length == 2
    assert page.response.total == 2
    ascending = mgmt.logs.list(search=f'user_id:"{user_id}"', sort="date:1")
    assert [e.type for e in ascending.items] == ["ss", "fp"]
    assert [e.log_id for e in ascending.items] == [e.log_id for e in reversed(page.items)]

    fp_page = mgmt.logs.list(search=f'type:"fp" AND user_id:"{user_id}"', per_page=10)
    assert len(fp_page.items) == 1
    fp = fp_page.items[0]
    assert LOG_FIELDS <= fp.dict().keys(), fp.dict()
    assert fp.type == "fp"
    assert fp.description == "Wrong email or password."
    assert fp.user_id == user_id
    assert fp.user_name == email
    assert fp.client_id == SPA_CLIENT_ID
    assert fp.client_name == "My SPA"
    assert fp.connection == DB_CONNECTION
    assert fp.ip == "127.0.0.1"
    assert fp.hostname == domain
    assert isinstance(fp.date, str) and fp.date.endswith("Z")
    assert fp.date >= page.items[1].date
    assert fp.details is not None

    ss = page.items[1]
    assert ss.type == "ss"
    assert (ss.user_id, ss.user_name, ss.client_id, ss.connection, ss.ip) == (
        user_id, email, SPA_CLIENT_ID, DB_CONNECTION, "127.0.0.1",
    )

    # "q" itself, through request_options.
    by_q = mgmt.logs.list(
        request_options={"additional_query_parameters": {"q": f'type:"ss" AND user_id:"{user_id}"'}},
    )
    assert [e.log_id for e in by_q.items] == [ss.log_id]

    fetched = mgmt.logs.get(fp.log_id)
    assert fetched.dict() == fp.dict()


def test_logs_get_unknown_is_not_found(mgmt):
    with pytest.raises(NotFoundError) as exc:
        mgmt.logs.get("90000000000000000000000000000000")
    assert exc.value.status_code == 404
    assert exc.value.body["errorCode"] == "inexistent_log"


# --------------------------------------------------------------------------- Actions and Rules


def _claims(jwt: str) -> dict:
    import base64
    import json

    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_pre_user_registration_action_denies_signup(db):
    email = f"py-{uuid.uuid4().hex}@denied.example"
    with pytest.raises(Auth0Error) as exc:
        db.signup(email=email, password=STRONG_PASSWORD, connection=DB_CONNECTION)
    assert exc.value.status_code == 400
    assert exc.value.error_code == "extensibility_error"
    assert exc.value.message == "domain_not_allowed"


def test_post_login_action_denies_login_and_adds_claims(db, spa_token):
    denied = unique_email("deny-py")
    _signup(db, denied)
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(username=denied, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert exc.value.status_code == 403
    assert exc.value.error_code == "access_denied"
    assert exc.value.message == "Access to this application is not allowed."

    allowed = unique_email()
    _signup(db, allowed)
    tokens = spa_token.login(username=allowed, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert _claims(tokens["id_token"])["https://portcullis.test/connection"] == DB_CONNECTION


def test_rule_unauthorized_error_denies_login(db, spa_token):
    email = unique_email("rule-py")
    _signup(db, email)
    with pytest.raises(Auth0Error) as exc:
        spa_token.login(username=email, password=STRONG_PASSWORD, realm=DB_CONNECTION, scope="openid")
    assert exc.value.status_code == 401
    assert exc.value.error_code == "unauthorized"
    assert exc.value.message == "Only staff may log in."
