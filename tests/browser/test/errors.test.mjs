// Every sign-up and login error of the seed, as a person sees it on the hosted pages, and the
// application's view of the errors that go back to it (access_denied for a blocked user).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ISSUER, LEAKED, STRONG, alertText, appState, launchBrowser, loginWithRedirect, logout, openApp,
  screenshot, signUp, startApp, uniqueEmail,
} from '../lib/harness.mjs';

let app;
let browser;
let page;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  page = await browser.newPage();
  await openApp(page);
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** The hosted sign-up page of `connection`, through auth0-spa-js's screen_hint. */
async function openSignUp(connection) {
  await openApp(page);
  const params = { screen_hint: 'signup' };
  if (connection) params.connection = connection;
  await loginWithRedirect(page, params);
  assert.ok(page.url().startsWith(`${ISSUER}u/signup?state=`), page.url());
}

async function submitSignUp({ email, password, username }) {
  await page.getByLabel('Email address').fill(email);
  if (username !== undefined) await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
}

/** Submits the sign-up form and returns the alert, checking the form kept the e-mail. */
async function signUpError(fields) {
  await submitSignUp(fields);
  const alert = await alertText(page);
  assert.ok(alert, `an error is shown for ${JSON.stringify(fields)}`);
  assert.equal(await page.getByLabel('Email address').inputValue(), fields.email);
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'never the password');
  return alert;
}

test('sign-up: each rule that refuses a password says which', async () => {
  await openSignUp();
  // The rules are shown before anyone types.
  const rules = await page.locator('#password-rules').innerText();
  assert.match(rules, /At least 8 characters in length/);

  const email = uniqueEmail('signup');
  const weak = await signUpError({ email, password: 'short' });
  // Which rule failed, and which parts the password already meets.
  assert.match(weak, /^Password is too weak\./);
  assert.match(weak, /✗ At least 8 characters in length/);
  assert.match(weak, /✓ lower case letters \(a-z\)/);
  assert.match(weak, /✗ upper case letters \(A-Z\)/);
  await screenshot(page, 'signup-weak-password');

  const leaked = await signUpError({ email, password: LEAKED });
  assert.equal(
    leaked,
    'This password was detected in a public data breach on another website. Please use a different password.',
  );
  await screenshot(page, 'signup-breached-password');

  await openSignUp('rules');
  assert.equal(await signUpError({ email, password: 'drawbridge' }), 'Password is too common.');
  const local = email.split('@')[0];
  assert.equal(
    await signUpError({ email, password: local }),
    'Password is based on user information.',
  );
});

test('sign-up: existing users and usernames, and connections closed to sign-up', async () => {
  const email = uniqueEmail('exists');
  await signUp(ISSUER, email);
  await openSignUp();
  assert.equal(await signUpError({ email, password: STRONG }), 'The user already exists.');
  await screenshot(page, 'signup-user-exists');

  const username = `u${Date.now() % 1e9}`;
  await signUp(ISSUER, uniqueEmail('owner'), STRONG, 'with-username', { username });
  await openSignUp('with-username');
  assert.equal(
    await signUpError({ email: uniqueEmail('other'), password: STRONG, username }),
    'The username already exists.',
  );

  await openSignUp('closed');
  assert.equal(
    await signUpError({ email: uniqueEmail('closed'), password: STRONG }),
    'Sign-ups are not allowed.',
  );
});

test('sign-up through the hosted page signs the new user in to the application', async () => {
  const email = uniqueEmail('new');
  await openSignUp();
  await screenshot(page, 'signup');
  await submitSignUp({ email, password: STRONG });
  await page.waitForURL((url) => !url.href.startsWith(ISSUER));
  const state = await appState(page);
  assert.equal(state.authenticated, true, JSON.stringify(state));
  assert.equal(state.user.email, email);
  assert.equal((await logout(page)).authenticated, false);
});

async function submitLogin(email, password) {
  await page.getByLabel('Email address or username').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
}

test('login: too many attempts blocks the account and says to check the e-mail', async () => {
  const email = uniqueEmail('attempts');
  await signUp(ISSUER, email);
  await openApp(page);
  await loginWithRedirect(page);
  let alert = null;
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    await submitLogin(email, `Wrong-Password-${attempt}`);
    alert = await alertText(page);
    if (alert !== 'Wrong email or password.') break;
  }
  assert.equal(
    alert,
    "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.",
  );
  // Even the right password is refused now.
  await submitLogin(email, STRONG);
  assert.match(await alertText(page), /^Your account has been blocked/);
  await screenshot(page, 'login-too-many-attempts');
});

test('login: a user blocked by an administrator goes back to the application as unauthorized', async () => {
  const email = uniqueEmail('blocked');
  const created = await signUp(ISSUER, email);
  await promisify(execFile)(process.env.PORTCULLIS_BIN, [
    'user', 'block', '--config', process.env.PORTCULLIS_CONFIG, `auth0|${created._id}`,
  ]);
  await openApp(page);
  await loginWithRedirect(page);
  await submitLogin(email, STRONG);
  await page.waitForURL((url) => !url.href.startsWith(ISSUER));
  const state = await appState(page);
  assert.equal(state.authenticated, false);
  assert.deepEqual(
    { error: state.callbackError.error, error_description: state.callbackError.error_description },
    // Auth0's answer for a blocked user, as on the token endpoint.
    { error: 'unauthorized', error_description: 'user is blocked' },
  );
});

test('login: a post-login Action\'s deny goes back to the application as access_denied', async () => {
  const email = `deny-${uniqueEmail('action')}`;
  await signUp(ISSUER, email);
  await openApp(page);
  await loginWithRedirect(page);
  await submitLogin(email, STRONG);
  await page.waitForURL((url) => !url.href.startsWith(ISSUER));
  const state = await appState(page);
  assert.equal(state.authenticated, false);
  assert.deepEqual(
    { error: state.callbackError.error, error_description: state.callbackError.error_description },
    { error: 'access_denied', error_description: 'Access to this application is not allowed.' },
  );
});
