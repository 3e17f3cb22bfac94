// A generic OpenID Connect relying party (openid-client, certified) completes the
// authorization-code flow with discovery, PKCE and ID-token validation; the ID token's
// signature is checked against the JWKS with jose; then refresh and RP-initiated logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  APP, ISSUER, STRONG, launchBrowser, signUp, startApp, uniqueEmail,
} from '../lib/harness.mjs';

const CLIENT_ID = 'webapp';
const CLIENT_SECRET = 'a-long-random-relying-party-secret';
const REDIRECT_URI = `${APP}/rp-callback`;

let app;
let browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test('openid-client: discovery, code flow with PKCE, validated ID token, userinfo, refresh, logout', async () => {
  const email = uniqueEmail('rp');
  await signUp(ISSUER, email);

  // The issuer is plain HTTP on loopback in this test.
  const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, {
    execute: [client.allowInsecureRequests],
  });
  assert.equal(config.serverMetadata().issuer, ISSUER);

  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const page = await browser.newPage();
  await page.goto(authorizationUrl.href);
  await page.getByLabel('Email address or username').fill(email);
  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI));

  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.aud, CLIENT_ID);
  assert.equal(claims.email, email);
  assert.equal(claims.nonce, nonce);
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const { protectedHeader } = await jwtVerify(tokens.id_token, jwks, {
    issuer: ISSUER,
    audience: CLIENT_ID,
  });
  assert.equal(protectedHeader.alg, 'RS256');

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, email);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.equal(refreshed.claims().sub, claims.sub);

  // RP-initiated logout: the end_session_endpoint returns to an allowed URL with the state.
  const logoutUrl = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: `${APP}/`,
    state: 'bye',
  });
  await page.goto(logoutUrl.href);
  assert.equal(page.url(), `${APP}/?state=bye`);
  await page.close();
});
