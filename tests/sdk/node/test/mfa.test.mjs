// Compatibility tests: @auth0/auth0-auth-js's MFA support (AuthClient.getTokenByPassword's
// mfa_required error, isMfaRequiredError, AuthClient.mfa.*) against the separate MFA tenant
// (tests/sdk/portcullis.mfa.toml: Guardian policy "all-applications", otp + recovery-code).
//
// How auth-js surfaces MFA:
//   * getTokenByPassword rejects with TokenByPasswordError whose cause is
//     { error: "mfa_required", error_description, mfa_token, mfa_requirements } — auth-js lifts
//     mfa_token / mfa_requirements from the 403 body only when error === "mfa_required";
//     isMfaRequiredError(err) narrows it.
//   * mfa.enrollAuthenticator -> POST /mfa/associate (Bearer mfa_token),
//     mfa.challengeAuthenticator -> POST /mfa/challenge (client_id/client_secret in JSON),
//     mfa.listAuthenticators -> GET /mfa/authenticators (Bearer mfa_token); failures are
//     Mfa*Error with statusCode, cause { error, error_description } and the raw body.
//   * mfa.verify -> /oauth/token with the mfa-otp / mfa-recovery-code grant through
//     openid-client (which validates the ID token); failures are MfaVerifyError.
//
// The TOTP "authenticator app" is the generic otpauth package, fed the barcode_uri.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
    AuthClient,
    MfaChallengeError,
    MfaEnrollmentError,
    MfaListAuthenticatorsError,
    MfaVerifyError,
    TokenByPasswordError,
    isMfaRequiredError,
} from "@auth0/auth0-auth-js";
import * as OTPAuth from "otpauth";

import {
    BACKEND_CLIENT_ID,
    BACKEND_CLIENT_SECRET,
    DB_CONNECTION,
    MFA_CLIENT_ID,
    MFA_CLIENT_SECRET,
    MFA_DOMAIN,
    MFA_ISSUER,
    SPA_CLIENT_ID,
    STRONG_PASSWORD,
    rejection,
    uniqueEmail,
} from "../lib/env.mjs";

const skip = MFA_DOMAIN ? false : "PORTCULLIS_MFA_DOMAIN not set";
const STEP_MS = 30_000;
const RECOVERY_CODE = /^[A-Z0-9]{24}$/;

const spa = MFA_DOMAIN && new AuthClient({ domain: MFA_DOMAIN, clientId: SPA_CLIENT_ID });
const app =
    MFA_DOMAIN &&
    new AuthClient({ domain: MFA_DOMAIN, clientId: MFA_CLIENT_ID, clientSecret: MFA_CLIENT_SECRET });

async function signUp(email) {
    await spa.database.signUp({ email, password: STRONG_PASSWORD, connection: DB_CONNECTION });
}

/** Log in with the MFA client; the server must answer mfa_required. Returns the error. */
async function mfaRequired(email, client = app) {
    const err = await rejection(
        client.getTokenByPassword({
            username: email,
            password: STRONG_PASSWORD,
            realm: DB_CONNECTION,
            scope: "openid profile email",
        }),
    );
    assert.ok(err instanceof TokenByPasswordError, `got ${err}`);
    return err;
}

/** The TOTP code of a 30 s step. */
function codeAt(totp, step) {
    return totp.generate({ timestamp: step * STEP_MS });
}

function currentStep() {
    return Math.floor(Date.now() / STEP_MS);
}

/** A 6-digit code that none of the steps the server accepts now (±1) produces. */
function wrongCode(totp) {
    const step = currentStep();
    const valid = new Set([-2, -1, 0, 1, 2].map((d) => codeAt(totp, step + d)));
    return ["000000", "111111", "222222"].find((c) => !valid.has(c));
}

/**
 * Sign up, log in (mfa_required), enroll OTP and confirm it with the current code.
 * Returns what later logins need: the authenticator app, the recovery code and the step used.
 */
async function enrolledUser() {
    const email = uniqueEmail("node-mfa");
    await signUp(email);
    const { mfa_token: mfaToken } = (await mfaRequired(email)).cause;
    const enrollment = await app.mfa.enrollAuthenticator({ authenticatorTypes: ["otp"], mfaToken });
    const totp = OTPAuth.URI.parse(enrollment.barcodeUri);
    const step = currentStep();
    const tokens = await app.mfa.verify({ mfaToken, factorType: "otp", otp: codeAt(totp, step) });
    assert.ok(tokens.accessToken);
    return { email, totp, recoveryCode: enrollment.recoveryCodes[0], step };
}

function assertMfaError(err, cls, { status, error, description }) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    assert.equal(err.statusCode, status);
    assert.equal(err.cause.error, error);
    assert.equal(err.cause.error_description, description);
    assert.equal(err.message, description);
}

describe("MFA: getTokenByPassword -> mfa_required", { skip }, () => {
    test("an unenrolled user: TokenByPasswordError narrowed by isMfaRequiredError, enroll [otp]", async () => {
        const email = uniqueEmail("node-mfa");
        await signUp(email);
        const err = await mfaRequired(email);
        assert.equal(err.code, "token_by_password_error");
        assert.equal(err.statusCode, 403);
        assert.ok(isMfaRequiredError(err), "isMfaRequiredError");
        assert.equal(err.cause.error, "mfa_required");
        assert.equal(err.cause.error_description, "Multifactor authentication required");
        assert.match(err.cause.mfa_token, /^mfa_/);
        assert.deepEqual(err.cause.mfa_requirements, { enroll: [{ type: "otp" }] });
    });

    test("a client without the MFA grants -> mfa_registration_required (not isMfaRequiredError)", async () => {
        const email = uniqueEmail("node-mfa");
        await signUp(email);
        const backend = new AuthClient({
            domain: MFA_DOMAIN,
            clientId: BACKEND_CLIENT_ID,
            clientSecret: BACKEND_CLIENT_SECRET,
        });
        const err = await mfaRequired(email, backend);
        assert.equal(err.statusCode, 403);
        assert.equal(err.cause.error, "mfa_registration_required");
        assert.equal(err.cause.error_description, "Multifactor authentication required");
        // auth-js lifts mfa_token only for error === "mfa_required".
        assert.equal(isMfaRequiredError(err), false);
    });
});

describe("MFA: enroll, challenge and verify an OTP authenticator", { skip }, () => {
    test("enrollAuthenticator -> challengeAuthenticator -> verify(otp) -> tokens; next login is challenged", async () => {
        const email = uniqueEmail("node-mfa");
        await signUp(email);
        const mfaToken = (await mfaRequired(email)).cause.mfa_token;

        const enrollment = await app.mfa.enrollAuthenticator({ authenticatorTypes: ["otp"], mfaToken });
        assert.equal(enrollment.authenticatorType, "otp");
        assert.match(enrollment.secret, /^[A-Z2-7]+=*$/, "base32 secret");
        assert.ok(enrollment.barcodeUri.startsWith("otpauth://totp/portcullis:"), enrollment.barcodeUri);
        assert.equal(enrollment.recoveryCodes.length, 1);
        assert.match(enrollment.recoveryCodes[0], RECOVERY_CODE);

        // A generic authenticator app reads the QR code's URI.
        const totp = OTPAuth.URI.parse(enrollment.barcodeUri);
        assert.ok(totp instanceof OTPAuth.TOTP);
        assert.equal(totp.secret.base32, enrollment.secret.replace(/=+$/, ""));
        assert.equal(totp.issuer, "portcullis");
        assert.equal(totp.label, email);
        assert.equal(totp.algorithm, "SHA1");
        assert.equal(totp.digits, 6);
        assert.equal(totp.period, 30);

        const challenge = await app.mfa.challengeAuthenticator({ challengeType: "otp", mfaToken });
        assert.deepEqual(challenge, { challengeType: "otp" });

        const wrong = await rejection(app.mfa.verify({ mfaToken, factorType: "otp", otp: wrongCode(totp) }));
        assertMfaError(wrong, MfaVerifyError, {
            status: 403,
            error: "invalid_grant",
            description: "Invalid otp_code.",
        });
        assert.equal(wrong.code, "mfa_verify_error");

        const step = currentStep();
        const tokens = await app.mfa.verify({ mfaToken, factorType: "otp", otp: codeAt(totp, step) });
        assert.ok(tokens.accessToken);
        assert.ok(tokens.idToken);
        assert.equal(tokens.tokenType, "bearer");
        assert.ok(tokens.expiresAt > Date.now() / 1000);
        // openid-client validated the ID token (iss, aud, exp, iat) for the mfa-otp grant.
        assert.equal(tokens.claims.iss, MFA_ISSUER);
        assert.equal(tokens.claims.aud, MFA_CLIENT_ID);
        assert.equal(tokens.claims.email, email);
        assert.match(tokens.claims.sub, /^auth0\|/);
        assert.equal(tokens.recoveryCode, undefined);

        // The mfa_token stood for one login.
        const reused = await rejection(
            app.mfa.verify({ mfaToken, factorType: "otp", otp: codeAt(totp, step + 1) }),
        );
        assertMfaError(reused, MfaVerifyError, {
            status: 403,
            error: "invalid_grant",
            description: "Malformed mfa_token",
        });

        // Enrolled now: the next login is challenged.
        const second = await mfaRequired(email);
        assert.ok(isMfaRequiredError(second));
        assert.deepEqual(second.cause.mfa_requirements, { challenge: [{ type: "otp" }] });
        const secondToken = second.cause.mfa_token;
        assert.notEqual(secondToken, mfaToken);

        const again = await rejection(
            app.mfa.enrollAuthenticator({ authenticatorTypes: ["otp"], mfaToken: secondToken }),
        );
        assertMfaError(again, MfaEnrollmentError, {
            status: 403,
            error: "access_denied",
            description: "User is already enrolled",
        });
        assert.equal(again.code, "mfa_enrollment_error");
        assert.deepEqual(JSON.parse(again.body), {
            error: "access_denied",
            error_description: "User is already enrolled",
        });

        const listed = await app.mfa.listAuthenticators({ mfaToken: secondToken });
        const byType = Object.fromEntries(listed.map((a) => [a.authenticatorType, a]));
        assert.deepEqual(Object.keys(byType).sort(), ["otp", "recovery-code"]);
        assert.equal(listed.length, 2);
        assert.match(byType.otp.id, /^totp\|dev_/);
        assert.match(byType["recovery-code"].id, /^recovery-code\|dev_/);
        assert.ok(listed.every((a) => a.active === true), JSON.stringify(listed));

        assert.deepEqual(
            await app.mfa.challengeAuthenticator({ challengeType: "otp", mfaToken: secondToken }),
            { challengeType: "otp" },
        );
        // The code already accepted (same step) is a replay.
        const replay = await rejection(
            app.mfa.verify({ mfaToken: secondToken, factorType: "otp", otp: codeAt(totp, step) }),
        );
        assertMfaError(replay, MfaVerifyError, {
            status: 403,
            error: "invalid_grant",
            description: "Invalid otp_code.",
        });
        // The next step's code is within the ±1 step window and newer than the last one used.
        const next = await app.mfa.verify({
            mfaToken: secondToken,
            factorType: "otp",
            otp: codeAt(totp, step + 1),
        });
        assert.equal(next.claims.email, email);
        assert.equal(next.claims.sub, tokens.claims.sub);
    });
});

describe("MFA: recovery code", { skip }, () => {
    test("verify(recovery-code) -> tokens and a new recovery code; the old one is spent", async () => {
        const { email, recoveryCode } = await enrolledUser();
        const mfaToken = (await mfaRequired(email)).cause.mfa_token;

        const wrong = await rejection(
            app.mfa.verify({
                mfaToken,
                factorType: "recovery-code",
                recoveryCode: "AAAABBBBCCCCDDDDEEEEFFFF",
            }),
        );
        assertMfaError(wrong, MfaVerifyError, {
            status: 403,
            error: "invalid_grant",
            description: "MFA Authorization rejected.",
        });

        const tokens = await app.mfa.verify({ mfaToken, factorType: "recovery-code", recoveryCode });
        assert.ok(tokens.accessToken);
        assert.equal(tokens.claims.email, email);
        assert.match(tokens.recoveryCode, RECOVERY_CODE);
        assert.notEqual(tokens.recoveryCode, recoveryCode);

        const nextToken = (await mfaRequired(email)).cause.mfa_token;
        const spent = await rejection(
            app.mfa.verify({ mfaToken: nextToken, factorType: "recovery-code", recoveryCode }),
        );
        assertMfaError(spent, MfaVerifyError, {
            status: 403,
            error: "invalid_grant",
            description: "MFA Authorization rejected.",
        });
        const renewed = await app.mfa.verify({
            mfaToken: nextToken,
            factorType: "recovery-code",
            recoveryCode: tokens.recoveryCode,
        });
        assert.equal(renewed.claims.sub, tokens.claims.sub);
        assert.match(renewed.recoveryCode, RECOVERY_CODE);
    });
});

describe("MFA: a malformed mfa_token", { skip }, () => {
    const expected = { status: 403, error: "invalid_grant", description: "Malformed mfa_token" };

    test("listAuthenticators -> MfaListAuthenticatorsError", async () => {
        const err = await rejection(app.mfa.listAuthenticators({ mfaToken: "garbage" }));
        assertMfaError(err, MfaListAuthenticatorsError, expected);
    });

    test("enrollAuthenticator -> MfaEnrollmentError", async () => {
        const err = await rejection(
            app.mfa.enrollAuthenticator({ authenticatorTypes: ["otp"], mfaToken: "garbage" }),
        );
        assertMfaError(err, MfaEnrollmentError, expected);
    });

    test("challengeAuthenticator -> MfaChallengeError", async () => {
        const err = await rejection(
            app.mfa.challengeAuthenticator({ challengeType: "otp", mfaToken: "garbage" }),
        );
        assertMfaError(err, MfaChallengeError, expected);
    });

    test("verify(otp) and verify(recovery-code) -> MfaVerifyError", async () => {
        for (const options of [
            { factorType: "otp", otp: "123456" },
            { factorType: "recovery-code", recoveryCode: "AAAABBBBCCCCDDDDEEEEFFFF" },
        ]) {
            const err = await rejection(app.mfa.verify({ mfaToken: "garbage", ...options }));
            assertMfaError(err, MfaVerifyError, expected);
        }
    });
});
