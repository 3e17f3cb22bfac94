// Shared by the browser tests: the servers' addresses, Chromium, the test application served
// on a loopback port, and small helpers (sign-up over the API, screenshots).
import dns from 'node:dns';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// The servers listen on 127.0.0.1; Node would try ::1 first for `localhost`.
dns.setDefaultResultOrder('ipv4first');

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (run tests/browser/with-server.sh)`);
  return value;
}

export const ISSUER = required('PORTCULLIS_ISSUER');
export const MFA_ISSUER = required('PORTCULLIS_MFA_ISSUER');
export const APP = `http://localhost:${required('APP_PORT')}`;
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || join(root, 'screenshots');
// Passes Auth0's "good" policy; not in the dictionary nor the breached-password corpus.
export const STRONG = 'Correct-Horse-9-Battery';
// In the compiled-in breached-password corpus, yet passes the "good" policy.
export const LEAKED = 'Password123';

let counter = 0;
export function uniqueEmail(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

/**
 * Starts the test application: the auth0-spa-js page at / (main tenant) and /mfa/, the
 * auth0.js embedded login form at /embedded/ and /mfa/embedded/ with its cross-origin
 * verification page at /co-verify, and the relying party's callback at /rp-callback.
 */
export async function startApp() {
  const spa = await readFile(
    join(root, 'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'),
  );
  const index = await readFile(join(root, 'app/index.html'));
  const embedded = await readFile(join(root, 'app/embedded.html'));
  const auth0js = await readFile(join(root, 'node_modules/auth0-js/dist/auth0.min.js'));
  const coVerify = await readFile(join(root, 'app/co-verify.html'));
  const config = `window.PORTCULLIS = ${JSON.stringify({
    main: { domain: ISSUER.replace(/\/$/, ''), clientId: 'spa' },
    mfa: { domain: MFA_ISSUER.replace(/\/$/, ''), clientId: 'spa' },
  })};`;
  const server = createServer((req, res) => {
    const path = new URL(req.url, APP).pathname;
    const send = (type, body) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/auth0-spa-js.js') return send('text/javascript', spa);
    if (path === '/config.js') return send('text/javascript', config);
    if (path === '/auth0.js') return send('text/javascript', auth0js);
    if (path === '/embedded/' || path === '/mfa/embedded/') return send('text/html', embedded);
    if (path === '/co-verify') return send('text/html', coVerify);
    if (path === '/' || path === '/mfa/') return send('text/html', index);
    if (path === '/rp-callback') {
      return send('text/html', '<!doctype html><title>Relying party</title><h1>Callback</h1>');
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(Number(process.env.APP_PORT), '127.0.0.1', resolve));
  return { close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Chromium from Debian's package, headless. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM
    || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) throw new Error('Chromium is not installed (apt-get install chromium)');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Creates a user through the Authentication API's sign-up endpoint. */
export async function signUp(issuer, email, password = STRONG, connection = 'Username-Password-Authentication', extra = {}) {
  const response = await fetch(new URL('dbconnections/signup', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'spa', connection, email, password, ...extra }),
  });
  if (response.status !== 200) {
    throw new Error(`sign-up of ${email}: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

/** Opens the test application at `path` and waits until auth0-spa-js has settled. */
export async function openApp(page, path = '/') {
  await page.goto(`${APP}${path}`);
  return appState(page);
}

export async function appState(page) {
  await page.waitForFunction(() => window.appState !== undefined, null, { timeout: 15000 });
  return page.evaluate(() => window.appState);
}

/** Starts auth0-spa-js's loginWithRedirect and waits for the hosted page. */
export async function loginWithRedirect(page, authorizationParams = {}) {
  const issuer = new URL(page.url()).pathname.startsWith('/mfa/') ? MFA_ISSUER : ISSUER;
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(`${issuer}u/`)),
    page.evaluate((params) => window.client.loginWithRedirect({ authorizationParams: params }), authorizationParams),
  ]);
}

/** The text of the page's alert (the error the form shows), or null. */
export async function alertText(page) {
  const alert = page.getByRole('alert');
  return (await alert.count()) ? (await alert.innerText()).trim() : null;
}

/** auth0-spa-js's logout back to the page it was called from; the application's state after. */
export async function logout(page) {
  await Promise.all([
    page.waitForNavigation(),
    page.evaluate(() => window.client.logout({
      logoutParams: { returnTo: `${location.origin}${location.pathname}` },
    })),
  ]);
  return appState(page);
}
