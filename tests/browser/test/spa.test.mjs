// auth0-spa-js in Chromium: login with redirect through the hosted page, a token silently
// (hidden iframe, response_mode=web_message, the session cookie), logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ISSUER, STRONG, alertText, appState, launchBrowser, loginWithRedirect, logout, openApp, screenshot,
  signUp, startApp, uniqueEmail,
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

test('login with redirect, a token silently, and logout', async () => {
  const email = uniqueEmail('spa');
  await signUp(ISSUER, email);
  const page = await browser.newPage();

  const start = await openApp(page);
  assert.equal(start.authenticated, false, JSON.stringify(start));

  await loginWithRedirect(page);
  assert.ok(page.url().startsWith(`${ISSUER}u/login?state=`), page.url());
  assert.equal(await page.title(), 'Log in | Portcullis');
  await screenshot(page, 'login');

  // A wrong password first: the page says so and keeps what was typed, never the password.
  await page.getByLabel('Email address or username').fill(email);
  await page.getByLabel('Password').fill('Not-The-Password-1');
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await alertText(page), 'Wrong email or password.');
  assert.equal(await page.getByLabel('Email address or username').inputValue(), email);
  assert.equal(await page.getByLabel('Password').inputValue(), '');
  await screenshot(page, 'login-wrong-password');

  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.href.startsWith('http://localhost') && !url.href.startsWith(ISSUER));
  const state = await appState(page);
  assert.equal(state.callbackError, null, JSON.stringify(state));
  assert.equal(state.authenticated, true);
  assert.equal(state.user.email, email);
  await screenshot(page, 'app-logged-in');

  // The session cookie lets the hidden iframe get a new token without a page.
  const silent = await page.evaluate(async () => {
    const result = await window.client.getTokenSilently({ cacheMode: 'off', detailedResponse: true });
    return { access_token: !!result.access_token, id_token: !!result.id_token };
  });
  assert.deepEqual(silent, { access_token: true, id_token: true });

  // Logout ends the session: back at the application, and silent authentication now fails.
  assert.equal((await logout(page)).authenticated, false);
  const error = await page.evaluate(async () => {
    try {
      await window.client.getTokenSilently({ cacheMode: 'off' });
      return null;
    } catch (e) {
      return e.error;
    }
  });
  assert.equal(error, 'login_required');
  await page.close();
});

test('a returning user is signed in silently when the application loads', async () => {
  const email = uniqueEmail('returning');
  await signUp(ISSUER, email);
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page);
  await loginWithRedirect(page);
  await page.getByLabel('Email address or username').fill(email);
  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => !url.href.startsWith(ISSUER));
  assert.equal((await appState(page)).authenticated, true);

  // A new tab of the same browser: createAuth0Client's checkSession finds the session.
  const second = await context.newPage();
  const state = await openApp(second);
  assert.equal(state.authenticated, true, JSON.stringify(state));
  assert.equal(state.user.email, email);
  await context.close();
});
