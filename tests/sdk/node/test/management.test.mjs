// Compatibility tests: the `auth0` package v7 ManagementClient against a running Portcullis.
//
// ManagementClient({ domain, clientId, clientSecret }) fetches its own token with a
// form-encoded client_credentials POST to https://<domain>/oauth/token
// (audience https://<domain>/api/v2/) and then calls https://<domain>/api/v2/...
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";

import { AuthClient, TokenByPasswordError } from "@auth0/auth0-auth-js";
import { Management, ManagementClient, ManagementError } from "auth0";

import {
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    DB_CONNECTION,
    DOMAIN,
    FOURTH_STRONG_PASSWORD,
    LEAKED_PASSWORD,
    OTHER_STRONG_PASSWORD,
    RULES_CONNECTION,
    STRONG_PASSWORD,
    THIRD_STRONG_PASSWORD,
    rejection,
    uniqueEmail,
} from "../lib/env.mjs";

const mgmt = new ManagementClient({
    domain: DOMAIN,
    clientId: BACKEND_CLIENT_ID,
    clientSecret: BACKEND_CLIENT_SECRET,
});
const auth = new AuthClient({
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

async function createUser(email = uniqueEmail(), extra = {}) {
    const user = await mgmt.users.create({
        connection: DB_CONNECTION,
        email,
        password: STRONG_PASSWORD,
        ...extra,
    });
    created.push(user.user_id);
    return user;
}

function login(email, password, realm = DB_CONNECTION) {
    return auth.getTokenByPassword({
        username: email,
        password,
        realm,
        scope: "openid",
    });
}

/** Auth0 Management API errors: {statusCode, error, message[, errorCode]}. */
function assertManagementError(err, ErrorClass, status) {
    assert.ok(err instanceof ManagementError, `expected ManagementError, got ${err}`);
    assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err.constructor.name}`);
    assert.equal(err.statusCode, status);
    assert.equal(typeof err.body, "object", "error body is JSON");
    assert.equal(err.body.statusCode, status);
    assert.equal(typeof err.body.error, "string");
    assert.equal(typeof err.body.message, "string");
}

describe("ManagementClient users", () => {
    test("create / get / list(q) / listUsersByEmail / update / delete", async () => {
        const email = uniqueEmail();
        const user = await createUser(email, {
            email_verified: true,
            user_metadata: { plan: "free" },
        });
        assert.match(user.user_id, /^auth0\|/);
        assert.equal(user.email, email);
        assert.equal(user.email_verified, true);
        assert.equal(user.identities?.[0]?.connection, DB_CONNECTION);
        assert.equal(user.identities?.[0]?.provider, "auth0");

        const fetched = await mgmt.users.get(user.user_id);
        assert.equal(fetched.user_id, user.user_id);
        assert.equal(fetched.email, email);
        assert.deepEqual(fetched.user_metadata, { plan: "free" });

        const page = await mgmt.users.list({
            q: `email:"${email}"`,
            search_engine: "v3",
            per_page: 10,
        });
        assert.deepEqual(
            page.data.map((u) => u.user_id),
            [user.user_id],
        );
        assert.equal(page.response.total, 1);

        const byEmail = await mgmt.users.listUsersByEmail({ email });
        assert.deepEqual(
            byEmail.map((u) => u.user_id),
            [user.user_id],
        );

        const renamed = await mgmt.users.update(user.user_id, {
            name: "Node Tester",
            user_metadata: { plan: "pro" },
        });
        assert.equal(renamed.name, "Node Tester");
        assert.equal(renamed.user_metadata?.plan, "pro");

        await mgmt.users.delete(user.user_id);
        const err = await rejection(mgmt.users.get(user.user_id));
        assertManagementError(err, Management.NotFoundError, 404);
        assert.deepEqual(await mgmt.users.listUsersByEmail({ email }), []);
    });

    test("update blocked: login refused while blocked", async () => {
        const email = uniqueEmail();
        const user = await createUser(email);
        const blocked = await mgmt.users.update(user.user_id, { blocked: true });
        assert.equal(blocked.blocked, true);
        assert.equal((await mgmt.users.get(user.user_id)).blocked, true);

        const err = await rejection(login(email, STRONG_PASSWORD));
        assert.ok(err instanceof TokenByPasswordError);
        assert.equal(err.statusCode, 401);
        assert.equal(err.cause.error, "unauthorized");
        assert.equal(err.cause.error_description, "user is blocked");

        const unblocked = await mgmt.users.update(user.user_id, { blocked: false });
        assert.equal(unblocked.blocked, false);
        assert.ok((await login(email, STRONG_PASSWORD)).accessToken);
    });

    test("update password: new password works, old one does not", async () => {
        const email = uniqueEmail();
        const user = await createUser(email);
        await mgmt.users.update(user.user_id, {
            password: OTHER_STRONG_PASSWORD,
            connection: DB_CONNECTION,
        });
        const err = await rejection(login(email, STRONG_PASSWORD));
        assert.equal(err.cause?.error, "invalid_grant");
        assert.ok((await login(email, OTHER_STRONG_PASSWORD)).accessToken);
    });

    test("create duplicate -> 409 ConflictError", async () => {
        const email = uniqueEmail();
        await createUser(email);
        const err = await rejection(
            mgmt.users.create({ connection: DB_CONNECTION, email, password: STRONG_PASSWORD }),
        );
        assertManagementError(err, Management.ConflictError, 409);
    });

    test("list paging: page / per_page / include_totals", async () => {
        await createUser();
        await createUser();
        const first = await mgmt.users.list({ page: 0, per_page: 1, include_totals: true });
        assert.equal(first.data.length, 1);
        assert.equal(first.response.start, 0);
        assert.equal(first.response.limit, 1);
        assert.equal(first.response.length, 1);
        assert.ok(first.response.total >= 2);
        assert.equal(first.hasNextPage(), true);

        const firstId = first.data[0].user_id;
        const second = await first.getNextPage(); // same Page object, now page=1
        assert.equal(second.data.length, 1);
        assert.equal(second.response.start, 1);
        assert.notEqual(second.data[0].user_id, firstId);
    });

    test("bad token -> 401 UnauthorizedError", async () => {
        const bad = new ManagementClient({ domain: DOMAIN, token: "not-a-token" });
        const err = await rejection(bad.users.get("auth0|does-not-matter"));
        assertManagementError(err, Management.UnauthorizedError, 401);
    });
});

describe("ManagementClient users.update password rules and breached passwords", () => {
    const badRequest = (message, extra = {}) => ({
        statusCode: 400,
        error: "Bad Request",
        message,
        ...extra,
    });
    const HISTORY = badRequest("PasswordHistoryError: Password has previously been used");

    /** users.update({ password }) must fail with a 400 BadRequestError; returns its body. */
    async function rejectedPassword(userId, password, connection) {
        const err = await rejection(mgmt.users.update(userId, { password, connection }));
        assertManagementError(err, Management.BadRequestError, 400);
        return err.body;
    }

    test("history (size 3): current and two previous passwords refused", async () => {
        const email = uniqueEmail();
        const user = await createUser(email, { connection: RULES_CONNECTION });
        const change = (password) =>
            mgmt.users.update(user.user_id, { password, connection: RULES_CONNECTION });
        const rejected = (password) => rejectedPassword(user.user_id, password, RULES_CONNECTION);

        assert.deepEqual(await rejected(STRONG_PASSWORD), HISTORY); // current
        await change(OTHER_STRONG_PASSWORD);
        await change(THIRD_STRONG_PASSWORD);
        assert.deepEqual(await rejected(STRONG_PASSWORD), HISTORY); // two changes ago
        assert.deepEqual(await rejected(OTHER_STRONG_PASSWORD), HISTORY); // previous
        // A refused change leaves the current password in place.
        assert.ok((await login(email, THIRD_STRONG_PASSWORD, RULES_CONNECTION)).accessToken);
        await change(FOURTH_STRONG_PASSWORD);
        await change(STRONG_PASSWORD); // three changes ago: out of the history again
        assert.ok((await login(email, STRONG_PASSWORD, RULES_CONNECTION)).accessToken);
    });

    test("dictionary word and personal information refused", async () => {
        const email = uniqueEmail();
        const user = await createUser(email, { connection: RULES_CONNECTION });
        assert.deepEqual(
            await rejectedPassword(user.user_id, "drawbridge", RULES_CONNECTION),
            badRequest("PasswordDictionaryError: Password is too common"),
        );
        const local = email.split("@")[0];
        assert.deepEqual(
            await rejectedPassword(user.user_id, `x-${local}-x`, RULES_CONNECTION),
            badRequest("PasswordNoUserInfoError: Password contains user information"),
        );
    });

    test("leaked password refused (PasswordLeakedError, errorCode password_leaked)", async () => {
        const email = uniqueEmail();
        const user = await createUser(email);
        assert.deepEqual(
            await rejectedPassword(user.user_id, LEAKED_PASSWORD, DB_CONNECTION),
            badRequest("PasswordLeakedError: Password has been found in a data breach", {
                errorCode: "password_leaked",
            }),
        );
        assert.ok((await login(email, STRONG_PASSWORD)).accessToken);
    });
});
