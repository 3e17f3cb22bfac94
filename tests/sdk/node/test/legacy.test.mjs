// Compatibility tests: the node-auth0 v4 API, as still shipped inside auth0@7 at
// "auth0/legacy" (the npm alias auth0-legacy -> auth0@4.37.x). Many deployed apps
// still use these names: AuthenticationClient.database.signUp / oauth.passwordGrant
// and ManagementClient.users.getAll / get / update / delete, usersByEmail.getByEmail.
//
// Wire differences from v7 worth noting: users.getAll sends only the query params it
// is given (no include_totals => the server must answer a bare JSON array), user ids
// are percent-encoded in the path (auth0%7C...), and passwordGrant with a realm uses
// grant_type=http://auth0.com/oauth/grant-type/password-realm and then verifies the ID
// token itself against https://<domain>/.well-known/jwks.json.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
    AuthApiError,
    AuthenticationClient,
    ManagementApiError,
    ManagementClient,
} from "auth0/legacy";

import {
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    DB_CONNECTION,
    DOMAIN,
    SPA_CLIENT_ID,
    STRONG_PASSWORD,
    WEAK_PASSWORD,
    rejection,
    uniqueEmail,
} from "../lib/env.mjs";

// signUp needs only a client_id; the legacy oauth.* grants insist on client credentials.
const spaAuth = new AuthenticationClient({ domain: DOMAIN, clientId: SPA_CLIENT_ID });
const backendAuth = new AuthenticationClient({
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
        await mgmt.users.delete({ id }).catch(() => {});
    }
});

describe("legacy AuthenticationClient", () => {
    test("signUp, then passwordGrant with realm (ID token verified by the SDK)", async () => {
        const email = uniqueEmail("legacy");
        const { data: signedUp } = await spaAuth.database.signUp({
            email,
            password: STRONG_PASSWORD,
            connection: DB_CONNECTION,
        });
        assert.equal(signedUp.email, email);
        assert.ok(signedUp.id);

        const { data: tokens } = await backendAuth.oauth.passwordGrant({
            username: email,
            password: STRONG_PASSWORD,
            realm: DB_CONNECTION,
            scope: "openid profile email",
        });
        assert.ok(tokens.access_token);
        assert.ok(tokens.id_token);
        assert.equal(tokens.token_type.toLowerCase(), "bearer");
    });

    test("signUp errors surface as AuthApiError(code, description)", async () => {
        const email = uniqueEmail("legacy");
        await spaAuth.database.signUp({ email, password: STRONG_PASSWORD, connection: DB_CONNECTION });
        const dup = await rejection(
            spaAuth.database.signUp({ email, password: STRONG_PASSWORD, connection: DB_CONNECTION }),
        );
        assert.ok(dup instanceof AuthApiError, `got ${dup}`);
        assert.equal(dup.statusCode, 400);
        assert.equal(dup.error, "user_exists");
        assert.equal(dup.error_description, "The user already exists.");

        const weak = await rejection(
            spaAuth.database.signUp({
                email: uniqueEmail("legacy"),
                password: WEAK_PASSWORD,
                connection: DB_CONNECTION,
            }),
        );
        assert.ok(weak instanceof AuthApiError);
        assert.equal(weak.error, "invalid_password");
        assert.equal(JSON.parse(weak.body).name, "PasswordStrengthError");
    });

    test("wrong password -> AuthApiError invalid_grant 403", async () => {
        const email = uniqueEmail("legacy");
        await spaAuth.database.signUp({ email, password: STRONG_PASSWORD, connection: DB_CONNECTION });
        const err = await rejection(
            backendAuth.oauth.passwordGrant({
                username: email,
                password: "nope-" + STRONG_PASSWORD,
                realm: DB_CONNECTION,
            }),
        );
        assert.ok(err instanceof AuthApiError, `got ${err}`);
        assert.equal(err.statusCode, 403);
        assert.equal(err.error, "invalid_grant");
        assert.equal(err.error_description, "Wrong email or password.");
    });
});

describe("legacy ManagementClient", () => {
    test("create / get / getAll(q) / getByEmail / update(blocked) / delete", async () => {
        const email = uniqueEmail("legacy");
        const { data: user } = await mgmt.users.create({
            connection: DB_CONNECTION,
            email,
            password: STRONG_PASSWORD,
        });
        created.push(user.user_id);
        assert.match(user.user_id, /^auth0\|/);

        const { data: fetched } = await mgmt.users.get({ id: user.user_id });
        assert.equal(fetched.email, email);

        // No include_totals: Auth0 answers a bare array.
        const { data: list } = await mgmt.users.getAll({ q: `email:"${email}"`, search_engine: "v3" });
        assert.ok(Array.isArray(list), "GET /api/v2/users without include_totals returns an array");
        assert.deepEqual(
            list.map((u) => u.user_id),
            [user.user_id],
        );

        const { data: withTotals } = await mgmt.users.getAll({
            q: `email:"${email}"`,
            include_totals: true,
            page: 0,
            per_page: 5,
        });
        assert.equal(withTotals.total, 1);
        assert.equal(withTotals.users.length, 1);

        const { data: byEmail } = await mgmt.usersByEmail.getByEmail({ email });
        assert.deepEqual(
            byEmail.map((u) => u.user_id),
            [user.user_id],
        );

        const { data: blocked } = await mgmt.users.update({ id: user.user_id }, { blocked: true });
        assert.equal(blocked.blocked, true);
        const err = await rejection(
            backendAuth.oauth.passwordGrant({ username: email, password: STRONG_PASSWORD, realm: DB_CONNECTION }),
        );
        assert.ok(err instanceof AuthApiError);
        assert.equal(err.statusCode, 401);
        assert.equal(err.error, "unauthorized");
        assert.equal(err.error_description, "user is blocked");

        await mgmt.users.delete({ id: user.user_id });
        const gone = await rejection(mgmt.users.get({ id: user.user_id }));
        assert.ok(gone instanceof ManagementApiError, `got ${gone}`);
        assert.equal(gone.statusCode, 404);
    });
});
