// Shared settings for the Node compatibility suites.
//
//   PORTCULLIS_DOMAIN   host:port of the HTTPS listener, no scheme (required)
//   PORTCULLIS_CA_FILE  PEM of the CA that signed the server certificate (optional)
//   PORTCULLIS_MFA_DOMAIN  host:port of the separate MFA tenant's HTTPS listener, same CA
//                       (optional; test/mfa.test.mjs is skipped without it)
//
// Node reads extra trust anchors only at process start, so NODE_EXTRA_CA_CERTS must
// already point at the CA file when `node --test` starts (tests/sdk/run.sh does that;
// the per-file child processes inherit it). Every library here uses Node's global
// fetch (undici) or https, and both honour NODE_EXTRA_CA_CERTS.
import { randomUUID } from "node:crypto";

export const DOMAIN = process.env.PORTCULLIS_DOMAIN;
if (!DOMAIN) {
    throw new Error("PORTCULLIS_DOMAIN (host:port, no scheme) must be set");
}
const caFile = process.env.PORTCULLIS_CA_FILE;
if (caFile && process.env.NODE_EXTRA_CA_CERTS !== caFile) {
    throw new Error(
        `PORTCULLIS_CA_FILE is set; start node with NODE_EXTRA_CA_CERTS=${caFile} ` +
            "(it is only read at process start)",
    );
}

export const ISSUER = `https://${DOMAIN}/`;
export const MGMT_AUDIENCE = `https://${DOMAIN}/api/v2/`;

// The MFA tenant (tests/sdk/portcullis.mfa.toml): Guardian policy "all-applications" with the
// otp and recovery-code factors; "mfa-app" may use the MFA API and the MFA grants.
export const MFA_DOMAIN = process.env.PORTCULLIS_MFA_DOMAIN || undefined;
export const MFA_ISSUER = MFA_DOMAIN && `https://${MFA_DOMAIN}/`;
export const MFA_CLIENT_ID = "mfa-app";
export const MFA_CLIENT_SECRET = "mfa-app-long-secret";

export const SPA_CLIENT_ID = "my-spa";
export const BACKEND_CLIENT_ID = "backend";
export const BACKEND_CLIENT_SECRET = "a-long-random-secret";

export const DB_CONNECTION = "Username-Password-Authentication";
export const USERNAME_CONNECTION = "with-username";
export const CLOSED_CONNECTION = "closed";
// "low" policy plus password_dictionary (10k list + "drawbridge"), password_no_personal_info
// and password_history (size 3).
export const RULES_CONNECTION = "rules";

// Satisfies Auth0's "good" policy: >= 8 chars and 3 of lower/upper/digit/special.
export const STRONG_PASSWORD = "Correct-Horse-9-Battery";
export const OTHER_STRONG_PASSWORD = "Tr0ub4dor&3-Staple-Again";
// "abc" is also in the breached-password corpus: the strength policy must win (as on Auth0).
export const WEAK_PASSWORD = "abc";
// Two more for the password-history test. None of the four strong passwords is in the
// breached-password corpus (crates/portcullis/data/leaked-passwords.txt.gz) or in the
// 10k dictionary.
export const THIRD_STRONG_PASSWORD = "Quiet-Lantern-42-River";
export const FOURTH_STRONG_PASSWORD = "Amber-Falcon-17-Meadow";
// In the compiled-in breached-password corpus, passes the "good" policy and is not in the
// 10k dictionary, so only breached-password detection rejects it.
export const LEAKED_PASSWORD = "Password123";

export function uniqueEmail(prefix = "node") {
    return `${prefix}-${randomUUID().replaceAll("-", "")}@example.com`;
}

export function uniqueUsername(prefix = "nd") {
    // Auth0 default username length is 1..15.
    return `${prefix}${randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

/** Await a promise that must reject; return the rejection reason. */
export async function rejection(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    throw new Error("expected the call to fail, but it succeeded");
}
