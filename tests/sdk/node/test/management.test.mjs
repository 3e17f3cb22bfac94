// Compatibility tests: the `auth0` package v7 ManagementClient against a running Portcullis.
//
// ManagementClient({ domain, clientId, clientSecret }) fetches its own token with a
// form-encoded client_credentials POST to https://<domain>/oauth/token
// (audience https://<domain>/api/v2/) and then calls https://<domain>/api/v2/...
// Covered: users.*, userBlocks.list/delete/listByIdentifier/deleteByIdentifier, logs.list/get.
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
    SPA_CLIENT_ID,
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
const spa = new AuthClient({ domain: DOMAIN, clientId: SPA_CLIENT_ID });
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

describe("ManagementClient userBlocks (brute-force protection, max_attempts 3)", () => {
    // Counters are per identifier and IP (all tests connect from 127.0.0.1): fresh e-mails.
    const WRONG_PASSWORD = STRONG_PASSWORD + "x";
    const blockedFor = (email) => ({
        blocked_for: [
            { identifier: email.toLowerCase(), connection: DB_CONNECTION, ip: "127.0.0.1" },
        ],
    });

    /** Three wrong passwords (403 invalid_grant), then the right one is refused with 429. */
    async function blockByLogins(email) {
        for (let i = 0; i < 3; i++) {
            const err = await rejection(login(email, WRONG_PASSWORD));
            assert.equal(err.statusCode, 403);
            assert.equal(err.cause?.error, "invalid_grant");
        }
        const err = await rejection(login(email, STRONG_PASSWORD));
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.statusCode, 429);
        assert.equal(err.cause?.error, "too_many_attempts");
    }

    test("list(id) / delete(id): 204 and the user can log in again", async () => {
        const email = uniqueEmail();
        const user = await createUser(email);
        assert.deepEqual(await mgmt.userBlocks.list(user.user_id), { blocked_for: [] });

        await blockByLogins(email);
        assert.deepEqual(await mgmt.userBlocks.list(user.user_id), blockedFor(email));

        // The block is logged as limit_wc for the user.
        const limitWc = await mgmt.logs.list({
            search: `type:"limit_wc" AND user_id:"${user.user_id}"`,
        });
        assert.deepEqual(
            limitWc.data.map((e) => [e.type, e.user_id]),
            [["limit_wc", user.user_id]],
        );

        const { data, rawResponse } = await mgmt.userBlocks.delete(user.user_id).withRawResponse();
        assert.equal(rawResponse.status, 204);
        assert.equal(data, undefined);
        assert.deepEqual(await mgmt.userBlocks.list(user.user_id), { blocked_for: [] });
        assert.ok((await login(email, STRONG_PASSWORD)).accessToken);
    });

    test("listByIdentifier / deleteByIdentifier: 204 and the user can log in again", async () => {
        // Mixed case: the block is kept (and reported) under the lower-cased e-mail.
        const email = uniqueEmail("Node-BF");
        await createUser(email);
        assert.deepEqual(await mgmt.userBlocks.listByIdentifier({ identifier: email }), {
            blocked_for: [],
        });

        await blockByLogins(email);
        assert.deepEqual(
            await mgmt.userBlocks.listByIdentifier({ identifier: email }),
            blockedFor(email),
        );
        assert.deepEqual(
            await mgmt.userBlocks.listByIdentifier({ identifier: email.toLowerCase() }),
            blockedFor(email),
        );

        const { rawResponse } = await mgmt.userBlocks
            .deleteByIdentifier({ identifier: email })
            .withRawResponse();
        assert.equal(rawResponse.status, 204);
        assert.deepEqual(await mgmt.userBlocks.listByIdentifier({ identifier: email }), {
            blocked_for: [],
        });
        assert.ok((await login(email, STRONG_PASSWORD)).accessToken);
    });

    test("list(unknown id) -> 404 NotFoundError", async () => {
        const err = await rejection(mgmt.userBlocks.list("auth0|does-not-exist"));
        assertManagementError(err, Management.NotFoundError, 404);
    });
});

describe("ManagementClient logs", () => {
    // logs.list always sends page, per_page (50) and include_totals (true), and the search
    // criteria as "search" (the server takes it like "q"); "q" goes through queryParams.
    test("signup (ss) and failed login (fp): list(search / sort / q) and get(log_id)", async () => {
        const email = uniqueEmail();
        const signedUp = await spa.database.signUp({
            email,
            password: STRONG_PASSWORD,
            connection: DB_CONNECTION,
        });
        const userId = `auth0|${signedUp.id}`;
        created.push(userId);
        const err = await rejection(login(email, STRONG_PASSWORD + "x"));
        assert.equal(err.cause?.error, "invalid_grant");

        // Newest first by default.
        const page = await mgmt.logs.list({ search: `user_id:"${userId}"` });
        assert.deepEqual(
            page.data.map((e) => e.type),
            ["fp", "ss"],
        );
        assert.equal(page.response.start, 0);
        assert.equal(page.response.limit, 50);
        assert.equal(page.response.length, 2);
        assert.equal(page.response.total, 2);
        const ascending = await mgmt.logs.list({ search: `user_id:"${userId}"`, sort: "date:1" });
        assert.deepEqual(
            ascending.data.map((e) => e.log_id),
            page.data.map((e) => e.log_id).reverse(),
        );

        const fpPage = await mgmt.logs.list({
            search: `type:"fp" AND user_id:"${userId}"`,
            per_page: 10,
        });
        assert.equal(fpPage.data.length, 1);
        const fp = fpPage.data[0];
        for (const field of [
            "log_id",
            "date",
            "type",
            "description",
            "client_id",
            "client_name",
            "ip",
            "user_id",
            "user_name",
            "connection",
            "details",
        ]) {
            assert.ok(field in fp, `log has ${field}: ${JSON.stringify(fp)}`);
        }
        assert.equal(fp.type, "fp");
        assert.equal(fp.description, "Wrong email or password.");
        assert.equal(fp.user_id, userId);
        assert.equal(fp.user_name, email);
        assert.equal(fp.client_id, BACKEND_CLIENT_ID);
        assert.equal(fp.client_name, "Backend");
        assert.equal(fp.connection, DB_CONNECTION);
        assert.equal(fp.ip, "127.0.0.1");
        assert.equal(fp.hostname, DOMAIN);
        assert.equal(new Date(fp.date).toISOString(), fp.date);
        assert.equal(typeof fp.details, "object");

        const ss = page.data[1];
        assert.deepEqual(
            [ss.type, ss.user_id, ss.user_name, ss.client_id, ss.connection, ss.ip],
            ["ss", userId, email, SPA_CLIENT_ID, DB_CONNECTION, "127.0.0.1"],
        );
        assert.ok(ss.date <= fp.date);

        const byQ = await mgmt.logs.list(
            {},
            { queryParams: { q: `type:"ss" AND user_id:"${userId}"` } },
        );
        assert.deepEqual(
            byQ.data.map((e) => e.log_id),
            [ss.log_id],
        );

        assert.deepEqual(await mgmt.logs.get(fp.log_id), fp);
    });

    test("get(unknown log_id) -> 404 NotFoundError", async () => {
        const err = await rejection(mgmt.logs.get("90000000000000000000000000000000"));
        assertManagementError(err, Management.NotFoundError, 404);
        assert.equal(err.body.errorCode, "inexistent_log");
    });
});

describe("auth0 ManagementClient — actions", () => {
    test("create, deploy and bind an Action; it refuses a login; unbind and delete", async () => {
        const name = `sdk-deny-${Date.now()}`;
        const action = await mgmt.actions.create({
            name,
            supported_triggers: [{ id: "post-login", version: "v3" }],
            code: "exports.onExecutePostLogin = async (event, api) => { if (event.user.email.startsWith('sdk-deny-')) api.access.deny(event.secrets.REASON); };",
            secrets: [{ name: "REASON", value: "Not through the SDK." }],
        });
        assert.equal(action.name, name);
        assert.deepEqual(action.supported_triggers, [{ id: "post-login", version: "v3" }]);
        const version = await mgmt.actions.deploy(action.id);
        assert.equal(version.number, 1);
        const bound = await mgmt.actions.triggers.bindings.updateMany("post-login", {
            bindings: [{ ref: { type: "action_id", value: action.id }, display_name: "SDK deny" }],
        });
        assert.equal(bound.bindings[0].action.id, action.id);

        const email = `sdk-deny-${uniqueEmail()}`;
        await spa.database.signUp({ email, password: STRONG_PASSWORD, connection: DB_CONNECTION });
        const err = await rejection(
            auth.getTokenByPassword({ username: email, password: STRONG_PASSWORD, realm: DB_CONNECTION }),
        );
        assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
        assert.equal(err.cause.error, "access_denied");
        assert.equal(err.cause.error_description, "Not through the SDK.");

        await mgmt.actions.triggers.bindings.updateMany("post-login", { bindings: [] });
        await mgmt.actions.delete(action.id);
        const gone = await rejection(mgmt.actions.get(action.id));
        assert.equal(gone.statusCode, 404);
        const [user] = await mgmt.users.listUsersByEmail({ email });
        created.push(user.user_id);
    });
});
