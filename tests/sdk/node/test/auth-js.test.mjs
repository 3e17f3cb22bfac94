// Compatibility tests: @auth0/auth0-auth-js (AuthClient) against a running Portcullis.
//
// AuthClient always does OIDC discovery at https://<domain>/.well-known/openid-configuration
// (openid-client / oauth4webapi) before any /oauth/token or /userinfo call, and
// requires client authentication (secret) for every grant, so logins use the
// confidential "backend" client. database.signUp needs no secret ("my-spa").
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
    AuthClient,
    SignUpError,
    TokenByClientCredentialsError,
    TokenByPasswordError,
    UserInfoError,
} from "@auth0/auth0-auth-js";
import { ManagementClient } from "auth0";
import { createRemoteJWKSet, jwtVerify } from "jose";

import {
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    CLOSED_CONNECTION,
    DB_CONNECTION,
    DOMAIN,
    ISSUER,
    LEAKED_PASSWORD,
    MGMT_AUDIENCE,
    RULES_CONNECTION,
    SPA_CLIENT_ID,
    STRONG_PASSWORD,
    USERNAME_CONNECTION,
    WEAK_PASSWORD,
    rejection,
    uniqueEmail,
    uniqueUsername,
} from "../lib/env.mjs";

const spa = new AuthClient({ domain: DOMAIN, clientId: SPA_CLIENT_ID });
const backend = new AuthClient({
    domain: DOMAIN,
    clientId: BACKEND_CLIENT_ID,
    clientSecret: BACKEND_CLIENT_SECRET,
});
const mgmt = new ManagementClient({
    domain: DOMAIN,
    clientId: BACKEND_CLIENT_ID,
    clientSecret: BACKEND_CLIENT_SECRET,
});
const created = [];
after(async () => {
    for (const id of created) {
        await mgmt.users.delete(id).catch(() => {});
    }
});

async function signUp(email, password = STRONG_PASSWORD) {
    return spa.database.signUp({ email, password, connection: DB_CONNECTION });
}

function login(email, password = STRONG_PASSWORD, extra = {}) {
    return backend.getTokenByPassword({
        username: email,
        password,
        realm: DB_CONNECTION,
        scope: "openid profile email",
        ...extra,
    });
}

/** Common assertions for a SignUpError produced from an Auth0-style /dbconnections error. */
function assertSignUpError(err, { status, code }) {
    assert.ok(err instanceof SignUpError, `expected SignUpError, got ${err}`);
    assert.equal(err.code, "signup_error");
    assert.equal(err.statusCode, status);
    assert.equal(err.cause.error, code); // copied from body.code
    const body = JSON.parse(err.body); // raw response text
    assert.equal(body.code, code);
    assert.equal(body.statusCode, status);
    assert.equal(typeof body.name, "string");
    return body;
}

describe("discovery", () => {
    test("server metadata is Auth0-shaped", async () => {
        const meta = await backend.getServerMetadata();
        assert.equal(meta.issuer, ISSUER);
        assert.equal(meta.token_endpoint, `https://${DOMAIN}/oauth/token`);
        assert.equal(meta.userinfo_endpoint, `https://${DOMAIN}/userinfo`);
        assert.equal(meta.jwks_uri, `https://${DOMAIN}/.well-known/jwks.json`);
    });
});

describe("database.signUp", () => {
    test("creates a user", async () => {
        const email = uniqueEmail();
        const result = await signUp(email);
        assert.equal(result.email, email);
        assert.ok(result.id, "signup response carries _id / user_id / id");
        assert.equal(result.emailVerified, false);
    });

    test("duplicate email -> user_exists", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const err = await rejection(signUp(email));
        const body = assertSignUpError(err, { status: 400, code: "user_exists" });
        assert.equal(body.name, "BadRequestError");
        assert.equal(body.description, "The user already exists.");
        assert.equal(err.cause.error_description, "The user already exists.");
        assert.equal(err.message, "The user already exists.");
    });

    test("taken username -> username_exists", async () => {
        const username = uniqueUsername();
        const first = await spa.database.signUp({
            email: uniqueEmail(),
            password: STRONG_PASSWORD,
            connection: USERNAME_CONNECTION,
            username,
        });
        assert.equal(first.username, username);
        const err = await rejection(
            spa.database.signUp({
                email: uniqueEmail(),
                password: STRONG_PASSWORD,
                connection: USERNAME_CONNECTION,
                username,
            }),
        );
        assertSignUpError(err, { status: 400, code: "username_exists" });
    });

    test("disabled signup -> unauthorized", async () => {
        const err = await rejection(
            spa.database.signUp({
                email: uniqueEmail(),
                password: STRONG_PASSWORD,
                connection: CLOSED_CONNECTION,
            }),
        );
        assert.ok(err instanceof SignUpError);
        assert.equal(err.cause.error, "unauthorized");
        assert.equal(err.cause.error_description, "public signup is disabled");
        assert.ok(err.statusCode >= 400 && err.statusCode < 500);
    });

    test("weak password -> invalid_password (PasswordStrengthError)", async () => {
        const err = await rejection(signUp(uniqueEmail(), WEAK_PASSWORD));
        const body = assertSignUpError(err, { status: 400, code: "invalid_password" });
        assert.equal(body.name, "PasswordStrengthError");
        assert.equal(body.message, "Password is too weak");
        assert.equal(typeof body.description, "object"); // rule breakdown
        assert.equal(typeof body.policy, "string");
        // description is not a string, so auth-js leaves error_description empty.
        assert.equal(err.cause.error_description, "");
    });
});

describe("database.signUp password rules and breached passwords", () => {
    for (const password of ["Drawbridge", "password1"]) {
        // "password1" is from the 10k list (and also breached: the dictionary rule wins);
        // "Drawbridge" is the connection's own entry, matched case-insensitively.
        test(`dictionary word ${password} -> invalid_password (PasswordDictionaryError)`, async () => {
            const err = await rejection(
                spa.database.signUp({ email: uniqueEmail(), password, connection: RULES_CONNECTION }),
            );
            const body = assertSignUpError(err, { status: 400, code: "invalid_password" });
            assert.deepEqual(body, {
                name: "PasswordDictionaryError",
                message: "Password is too common",
                code: "invalid_password",
                description: "Password is not allowed, it might be too common.",
                statusCode: 400,
            });
            assert.equal(err.cause.error_description, body.description);
            assert.equal(err.message, body.description);
        });
    }

    test("e-mail local part in the password -> invalid_password (PasswordNoUserInfoError)", async () => {
        const email = uniqueEmail();
        const local = email.split("@")[0];
        const err = await rejection(
            spa.database.signUp({
                email,
                password: `${local.toUpperCase()}-9`,
                connection: RULES_CONNECTION,
            }),
        );
        const body = assertSignUpError(err, { status: 400, code: "invalid_password" });
        assert.deepEqual(body, {
            name: "PasswordNoUserInfoError",
            message: "Password contains user information",
            code: "invalid_password",
            description: "Password is based on user information",
            statusCode: 400,
        });
        assert.equal(err.message, body.description);
    });

    test("rules connection accepts an acceptable password", async () => {
        const email = uniqueEmail();
        const result = await spa.database.signUp({
            email,
            password: STRONG_PASSWORD,
            connection: RULES_CONNECTION,
        });
        assert.equal(result.email, email);
        assert.ok((await login(email, STRONG_PASSWORD, { realm: RULES_CONNECTION })).accessToken);
    });

    test("leaked password -> password_leaked", async () => {
        const err = await rejection(signUp(uniqueEmail(), LEAKED_PASSWORD));
        const body = assertSignUpError(err, { status: 400, code: "password_leaked" });
        const description =
            "This combination of credentials was detected in a public data breach on another " +
            "website. Before your account is created, please use a different password to keep it secure.";
        assert.deepEqual(body, {
            name: "BadRequestError",
            code: "password_leaked",
            description,
            statusCode: 400,
        });
        assert.equal(err.cause.error_description, description);
        assert.equal(err.message, description);
    });
});

describe("getTokenByPassword", () => {
    test("password grant with realm; ID token validates against JWKS", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const tokens = await login(email);
        assert.ok(tokens.accessToken);
        assert.ok(tokens.idToken);
        assert.equal(tokens.tokenType, "bearer"); // lower-cased by oauth4webapi
        assert.ok(tokens.expiresAt > Date.now() / 1000);
        // openid-client already checked iss/aud/exp/iat/sub of the ID token.
        assert.equal(tokens.claims.email, email);
        assert.equal(tokens.claims.iss, ISSUER);
        assert.match(tokens.claims.sub, /^auth0\|/);

        const meta = await backend.getServerMetadata();
        const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
        const { payload, protectedHeader } = await jwtVerify(tokens.idToken, jwks, {
            issuer: ISSUER,
            audience: BACKEND_CLIENT_ID,
            algorithms: ["RS256"],
        });
        assert.equal(protectedHeader.alg, "RS256");
        assert.ok(protectedHeader.kid);
        assert.equal(payload.email, email);
    });

    test("plain password grant (no realm, default directory)", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const tokens = await login(email, STRONG_PASSWORD, { realm: undefined });
        assert.equal(tokens.claims.email, email);
    });

    test("wrong password -> invalid_grant 403", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const err = await rejection(login(email, STRONG_PASSWORD + "x"));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.code, "token_by_password_error");
        assert.equal(err.statusCode, 403);
        assert.equal(err.cause.error, "invalid_grant");
        assert.equal(err.cause.error_description, "Wrong email or password.");
    });

    test("blocked user -> unauthorized 401 'user is blocked'", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const [user] = await mgmt.users.listUsersByEmail({ email });
        created.push(user.user_id);
        await mgmt.users.update(user.user_id, { blocked: true });

        const err = await rejection(login(email));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.statusCode, 401);
        assert.equal(err.cause.error, "unauthorized");
        assert.equal(err.cause.error_description, "user is blocked");

        await mgmt.users.update(user.user_id, { blocked: false });
        assert.ok((await login(email)).accessToken);
    });

    test("leaked password -> password_leaked 401", async () => {
        // POST /api/v2/users does not screen breached passwords; login does.
        const email = uniqueEmail();
        const user = await mgmt.users.create({
            connection: DB_CONNECTION,
            email,
            password: LEAKED_PASSWORD,
        });
        created.push(user.user_id);

        const err = await rejection(login(email, LEAKED_PASSWORD));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.statusCode, 401);
        assert.equal(err.cause.error, "password_leaked");
        assert.equal(
            err.cause.error_description,
            "This login attempt has been blocked because the password you're using was " +
                "previously disclosed through a data breach (not in this application).",
        );
    });
});

describe("getTokenByPassword brute-force protection (max_attempts 3)", () => {
    // Counters are per identifier and IP (all tests connect from 127.0.0.1): fresh e-mails.
    const WRONG_PASSWORD = STRONG_PASSWORD + "x";

    async function failLogins(email, times = 3) {
        for (let i = 0; i < times; i++) {
            const err = await rejection(login(email, WRONG_PASSWORD));
            assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
            assert.equal(err.statusCode, 403);
            assert.equal(err.cause.error, "invalid_grant");
        }
    }

    test("3rd consecutive failure blocks; even the right password -> 429 too_many_attempts", async () => {
        const email = uniqueEmail();
        await signUp(email);
        await failLogins(email);
        for (const password of [STRONG_PASSWORD, WRONG_PASSWORD]) {
            const err = await rejection(login(email, password));
            assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
            assert.equal(err.code, "token_by_password_error");
            assert.equal(err.statusCode, 429);
            assert.equal(err.cause.error, "too_many_attempts");
            assert.equal(
                err.cause.error_description,
                "Your account has been blocked after multiple consecutive login attempts. " +
                    "We've sent you an email with instructions on how to unblock it.",
            );
        }
    });

    test("a success before the 3rd failure resets the count", async () => {
        const email = uniqueEmail();
        await signUp(email);
        await failLogins(email, 2);
        assert.ok((await login(email)).accessToken);
        await failLogins(email, 2);
        assert.ok((await login(email)).accessToken, "count restarted after the success");
    });
});

describe("getUserInfo", () => {
    test("returns the profile for the access token (public client)", async () => {
        const email = uniqueEmail();
        await signUp(email);
        const tokens = await login(email);
        const profile = await spa.getUserInfo({
            accessToken: tokens.accessToken,
            expectedSubject: tokens.claims.sub,
        });
        assert.equal(profile.sub, tokens.claims.sub);
        assert.equal(profile.email, email);
    });

    test("garbage token -> UserInfoError", async () => {
        const err = await rejection(spa.getUserInfo({ accessToken: "not-a-token" }));
        assert.ok(err instanceof UserInfoError, `got ${err}`);
    });
});

describe("getTokenByClientCredentials", () => {
    test("Management API token works with ManagementClient({ token })", async () => {
        const tokens = await backend.getTokenByClientCredentials({ audience: MGMT_AUDIENCE });
        assert.ok(tokens.accessToken);
        assert.ok(tokens.scope.split(" ").includes("read:users"));

        const email = uniqueEmail();
        await signUp(email);
        const withToken = new ManagementClient({ domain: DOMAIN, token: tokens.accessToken });
        const users = await withToken.users.listUsersByEmail({ email });
        assert.deepEqual(
            users.map((u) => u.email),
            [email],
        );
    });

    test("wrong secret -> access_denied 401", async () => {
        const bad = new AuthClient({
            domain: DOMAIN,
            clientId: BACKEND_CLIENT_ID,
            clientSecret: "wrong-secret",
        });
        const err = await rejection(bad.getTokenByClientCredentials({ audience: MGMT_AUDIENCE }));
        assert.ok(err instanceof TokenByClientCredentialsError, `got ${err}`);
        assert.equal(err.statusCode, 401);
        assert.equal(err.cause.error, "access_denied");
    });
});

describe("@auth0/auth0-auth-js — Actions and Rules", () => {
    test("pre-user-registration Action deny -> extensibility_error", async () => {
        const err = await rejection(
            spa.database.signUp({
                email: `${uniqueEmail().split("@")[0]}@denied.example`,
                password: STRONG_PASSWORD,
                connection: DB_CONNECTION,
            }),
        );
        assert.ok(err instanceof SignUpError, `got ${err}`);
        assert.equal(err.statusCode, 400);
        assert.equal(err.cause.error, "extensibility_error");
        assert.equal(err.cause.error_description, "domain_not_allowed");
    });

    test("post-login Action deny -> access_denied with the reason", async () => {
        const email = `deny-${uniqueEmail()}`;
        await signUp(email);
        const err = await rejection(login(email));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.statusCode, 403);
        assert.equal(err.cause.error, "access_denied");
        assert.equal(err.cause.error_description, "Access to this application is not allowed.");
    });

    test("Rule UnauthorizedError -> unauthorized with its message", async () => {
        const email = `rule-${uniqueEmail()}`;
        await signUp(email);
        const err = await rejection(login(email));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.statusCode, 401);
        assert.equal(err.cause.error, "unauthorized");
        assert.equal(err.cause.error_description, "Only staff may log in.");
    });
});
