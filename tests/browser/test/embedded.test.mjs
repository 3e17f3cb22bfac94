// auth0.js embedded login (cross-origin authentication): the application's own form posts to
// /co/authenticate, then auth0.js continues at /authorize with the login_ticket; errors come
// back to the form as auth0.js and Lock expect them. A second factor is asked for on the
// hosted pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP, ISSUER, MFA_ISSUER, STRONG, launchBrowser, signUp, startApp, uniqueEmail,
} from '../lib/harness.mjs';

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

async function submit(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('auth0.js login: wrong password on the form, then a code for the application', async () => {
  const email = uniqueEmail('embedded');
  await signUp(ISSUER, email);
  const page = await browser.newPage();
  await page.goto(`${APP}/embedded/`);

  await submit(page, email, 'Not-The-Password-1');
  await page.waitForFunction(() => window.loginError !== undefined);
  assert.deepEqual(await page.evaluate(() => window.loginError), {
    code: 'access_denied',
    description: 'Wrong email or password.',
  });

  await submit(page, email, STRONG);
  await page.waitForURL((url) => url.href.startsWith(`${APP}/rp-callback`));
  const callback = new URL(page.url());
  const code = callback.searchParams.get('code');
  assert.ok(code, page.url());

  // The application's back end exchanges the code with its secret.
  const response = await fetch(new URL('oauth/token', ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'authorization_code',
      client_id: 'webapp',
      client_secret: 'a-long-random-relying-party-secret',
      code,
      redirect_uri: `${APP}/rp-callback`,
    }),
  });
  assert.equal(response.status, 200);
  const tokens = await response.json();
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.email, email);
  await page.close();
});

test('without the verifier cookie, the application\'s verification page hands the verifier over', async () => {
  const email = uniqueEmail('no-third-party-cookies');
  await signUp(ISSUER, email);
  const page = await browser.newPage();
  // As a browser that blocks third-party cookies: the verifier cookie never arrives.
  let stripped = 0;
  await page.route('**/co/authenticate', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    if (headers['set-cookie']) stripped += 1;
    delete headers['set-cookie'];
    await route.fulfill({ response, headers });
  });
  await page.goto(`${APP}/embedded/`);
  await submit(page, email, STRONG);
  await page.waitForURL((url) => url.href.startsWith(`${APP}/rp-callback`));
  assert.equal(stripped, 1);
  assert.ok(new URL(page.url()).searchParams.get('code'), page.url());
  await page.close();
});

test('auth0.js login where MFA is required continues on the hosted enrollment page', async () => {
  const email = uniqueEmail('embedded-mfa');
  await signUp(MFA_ISSUER, email);
  const page = await browser.newPage();
  await page.goto(`${APP}/mfa/embedded/`);
  await submit(page, email, STRONG);
  await page.waitForURL((url) => url.href.startsWith(`${MFA_ISSUER}authorize`));
  await page.getByRole('heading', { name: 'Secure your account' }).waitFor();
  assert.equal(await page.locator('.qr svg').count(), 1);
  await page.close();
});
