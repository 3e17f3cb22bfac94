// MFA on the hosted pages (the tenant requires it for everyone): enrollment by reading the
// secret off the page into an authenticator (otpauth), the recovery code shown once, a wrong
// code, the challenge at the next login, and a recovery code instead of the app.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import {
  MFA_ISSUER, STRONG, alertText, appState, launchBrowser, loginWithRedirect, openApp,
  screenshot, signUp, startApp, uniqueEmail,
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

async function logIn(page, email) {
  await openApp(page, '/mfa/');
  await loginWithRedirect(page);
  await page.getByLabel('Email address or username').fill(email);
  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
}

/** A code of the authenticator that is not the one just used (each step counts once). */
async function freshCode(totp, used) {
  for (;;) {
    const code = totp.generate();
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

test('enrollment, challenge and recovery code through the hosted pages', async () => {
  const email = uniqueEmail('mfa');
  await signUp(MFA_ISSUER, email);
  const context = await browser.newContext();
  const page = await context.newPage();

  // The password is right; the user has no factor yet, so the page enrolls one.
  await logIn(page, email);
  await page.getByRole('heading', { name: 'Secure your account' }).waitFor();
  assert.equal(await page.locator('.qr svg').count(), 1, 'a QR code of the otpauth URI');
  await screenshot(page, 'mfa-enroll');
  const secret = (await page.locator('#secret').innerText()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  const used = new Set();

  const good = await freshCode(totp, used);
  const wrong = good === '000000' ? '111111' : '000000';
  await page.getByLabel('Enter your one-time code').fill(wrong);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
  assert.equal(await alertText(page), 'Wrong code. Please try again.');
  assert.equal((await page.locator('#secret').innerText()).trim(), secret, 'the same secret again');
  await screenshot(page, 'mfa-enroll-wrong-code');

  await page.getByLabel('Enter your one-time code').fill(good);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Almost there!' }).waitFor();
  const recovery = (await page.locator('#recovery-code').innerText()).trim();
  assert.match(recovery, /^[A-Z0-9]{24}$/);
  await screenshot(page, 'mfa-recovery-code');
  await page.getByRole('link', { name: 'Continue' }).click();
  await page.waitForURL((url) => !url.href.startsWith(MFA_ISSUER));
  let state = await appState(page);
  assert.equal(state.authenticated, true, JSON.stringify(state));
  assert.equal(state.user.email, email);
  await context.close();

  // Another browser: the password, then the code from the app.
  const second = await browser.newPage();
  await logIn(second, email);
  await second.getByRole('heading', { name: 'Verify your identity' }).waitFor();
  await screenshot(second, 'mfa-challenge');
  await second.getByLabel('Enter your one-time code').fill(await freshCode(totp, used));
  await second.getByRole('button', { name: 'Continue' }).click();
  await second.waitForURL((url) => !url.href.startsWith(MFA_ISSUER));
  state = await appState(second);
  assert.equal(state.authenticated, true, JSON.stringify(state));
  await second.close();

  // A third: the recovery code instead of the app, and the next one shown once.
  const third = await browser.newPage();
  await logIn(third, email);
  await third.getByRole('button', { name: 'Use a recovery code' }).click();
  await third.getByLabel('Recovery code').fill('NOT-A-RECOVERY-CODE');
  await third.getByRole('button', { name: 'Continue' }).click();
  await third.waitForLoadState();
  assert.equal(await alertText(third), 'The recovery code is not valid. Please try again.');
  await third.getByLabel('Recovery code').fill(recovery);
  await third.getByRole('button', { name: 'Continue' }).click();
  await third.getByRole('heading', { name: 'Your new recovery code' }).waitFor();
  const next = (await third.locator('#recovery-code').innerText()).trim();
  assert.notEqual(next, recovery);
  await third.getByRole('link', { name: 'Continue' }).click();
  await third.waitForURL((url) => !url.href.startsWith(MFA_ISSUER));
  state = await appState(third);
  assert.equal(state.authenticated, true, JSON.stringify(state));
  await third.close();
});
