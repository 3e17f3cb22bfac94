// Generates crates/portcullis-core/tests/fixtures/password-sheriff.json: what Auth0's
// password-sheriff says (`check`, `missing`, `toString`) about ~4,000 edge-case passwords under
// each of Auth0's five named policies, and under `password_complexity_options.min_length`
// overrides of `good` and `excellent`. Deterministic: a seeded PRNG, no Math.random, no clock.
//
//   npm ci && node generate.mjs
//
// The fixture is read by crates/portcullis-core/tests/password_sheriff.rs.

import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
const sheriff = require('password-sheriff');
const { PasswordPolicy } = sheriff;
// Auth0's rule definitions of the five levels (the same objects password-sheriff's index.js builds
// its named policies from, but exported, so a length rule can be swapped in).
const auth0Policies = require('auth0-password-policies');
const sheriffVersion = require('password-sheriff/package.json').version;
const policiesVersion = require('auth0-password-policies/package.json').version;

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../crates/portcullis-core/tests/fixtures/password-sheriff.json');

const SEED = 0x5eed_2026;
const TARGET = 4000;

// --- PRNG (mulberry32) -------------------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const int = (n) => Math.floor(rand() * n); // 0..n-1
const pick = (xs) => xs[int(xs.length)];
const shuffle = (xs) => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

// --- alphabets ---------------------------------------------------------------------------------
const chars = (s) => Array.from(s); // by code point, never splitting a surrogate pair
const LOWER = chars('abcdefghijklmnopqrstuvwxyz');
const UPPER = chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const DIGIT = chars('0123456789');
// password-sheriff's OWASP list: space and all 32 ASCII punctuation characters.
const SPECIAL = chars(' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const CLASSES = { lower: LOWER, upper: UPPER, digit: DIGIT, special: SPECIAL };
// Letters outside ASCII: none of them counts as lower/upper case for /[a-z]/, /[A-Z]/.
const NON_ASCII_LETTERS = chars('éÉßÄäÖöÜüñçøÆœıİſﬁΩωЖжПпрЯяДЁё密码中文字한국語ภาษา');
// Digits, punctuation and spaces outside ASCII: not \d (no u flag), not OWASP specials.
const NON_ASCII_OTHER = [
  '１', '２', '٣', '߀', '€', '£', '¡', '¿', '«', '»', '—', '…', '°', '§', '\u00a0', '\u3000',
  '\u2028', '\u200b', '\u200d', '\u0301', '\ufeff', 'Ａ', 'ａ', '\u212a', '＠', '！',
];
// Astral characters: two UTF-16 code units each.
const ASTRAL = chars('😀😁👍🔥💩🎉𝔸𝕒𝟘𝟙𐐷𐑏𠜎𠀋🀄🇺🇸');
// Multi-code-point sequences.
const SEQUENCES = ['👍🏽', '🇺🇸', '👨‍👩‍👧', 'e\u0301', '❤️', '1️⃣'];
const CONTROL = ['\t', '\n', '\r', '\u0000', '\u0001', '\u001b', '\u007f', '\u0085'];
const ALL_ASCII = [...LOWER, ...UPPER, ...DIGIT, ...SPECIAL];
const ANY = [
  ...ALL_ASCII, ...ALL_ASCII, ...ALL_ASCII, ...NON_ASCII_LETTERS, ...NON_ASCII_OTHER, ...ASTRAL,
  ...SEQUENCES, ...CONTROL,
];

const utf16 = (s) => s.length;

// --- password generation -----------------------------------------------------------------------
const passwords = [];
const seen = new Set();
function add(pw) {
  if (typeof pw !== 'string' || seen.has(pw)) return;
  seen.add(pw);
  passwords.push(pw);
}

// A password of exactly `len` code points drawn from the given classes, each class present at
// least once when `len` allows it.
function fromClasses(classNames, len, fallback = NON_ASCII_LETTERS) {
  const pools = classNames.map((c) => CLASSES[c]);
  if (pools.length === 0) pools.push(fallback);
  const out = pools.slice(0, len).map(pick);
  const union = pools.flat();
  while (out.length < len) out.push(pick(union));
  return shuffle(out).join('');
}

// 1. The empty password, every single ASCII character, and single non-ASCII characters.
add('');
for (let c = 0; c < 128; c++) add(String.fromCharCode(c));
for (const c of [...NON_ASCII_LETTERS, ...NON_ASCII_OTHER, ...ASTRAL, ...SEQUENCES]) add(c);

// 2. Every combination of the four classes at lengths 0–14 and around 20 (min_length overrides).
const classNames = Object.keys(CLASSES);
const subsets = [];
for (let mask = 0; mask < 16; mask++) subsets.push(classNames.filter((_, i) => mask & (1 << i)));
const lengths = [...Array(15).keys(), 19, 20, 21];
for (const subset of subsets) {
  for (const len of lengths) {
    for (let v = 0; v < 3; v++) add(fromClasses(subset, len));
  }
}

// 3. Each special character (space and every ASCII punctuation mark) in several settings.
for (const c of SPECIAL) {
  add(`abcdefg${c}`);
  add(`abcdefgh${c}`);
  add(`ABCD${c}EFG`);
  add(`${c}1234567`);
  add(`Abcdefg${c}`);
  add(`abcdef1${c}`);
  add(`${c}${c}${c}Ab1xyzw`);
  add(`aB3${c}${c}xyzw12`);
  add(`${c}`.repeat(10));
  add(`Ab1${c}`);
}

// 4. Runs of 1–4 identical characters at the start, middle and end of weak and strong bases.
const RUN_CHARS = ['a', 'Z', '7', '!', ' ', '\\', 'é', 'Ж', '密', '１', '😀', '𝔸', '\u0000', '👍🏽', 'e\u0301'];
const BASES = ['Xy7#mQ2p', 'Xy7#mQ2pLk', 'abcdefgh', 'Pa55w0rd!x'];
for (const r of RUN_CHARS) {
  for (let n = 1; n <= 4; n++) {
    const run = r.repeat(n);
    for (const base of BASES) {
      const mid = Math.floor(base.length / 2);
      add(run + base);
      add(base.slice(0, mid) + run + base.slice(mid));
      add(base + run);
    }
    add(run);
  }
}
// Two runs, runs of differing length, runs of case-variants (not identical).
for (let i = 0; i < 60; i++) {
  const a = pick(ALL_ASCII);
  const b = pick([...ALL_ASCII, ...ASTRAL]);
  add(a.repeat(1 + int(4)) + fromClasses(shuffle(classNames).slice(0, 1 + int(4)), int(8)) + b.repeat(1 + int(4)));
}
add('aAaAaAaAaA1!');
add('aaAAaa11!!xx');
add('AAAbbb111!!!');
add('ab😀😀😀cD1!xy');
add('ab😀😀cD1!xy');

// 5. Non-ASCII letters mixed with ASCII classes, around each minimum length.
for (let len = 0; len <= 14; len++) {
  for (let v = 0; v < 6; v++) {
    const nonAscii = 1 + int(Math.max(1, len));
    const ascii = fromClasses(shuffle(classNames).slice(0, int(5)), Math.max(0, len - nonAscii));
    const extra = Array.from({ length: nonAscii }, () => pick(v % 2 ? NON_ASCII_LETTERS : NON_ASCII_OTHER));
    add(shuffle([...chars(ascii), ...extra]).slice(0, len).join(''));
  }
}
for (const word of ['пароль', 'Пароль123', 'Passwört1', 'straße12', 'STRASSE12', 'Ärger2024', 'パスワード', '密码密码密码密码', 'Ünïcödé!', 'ıİıİıİıİ', '\u212aelvin123', 'ＡＢＣ１２３ａｂｃ', 'Abc\u00a0def1', 'Abc\u3000def1', 'é'.repeat(8), 'Ж'.repeat(3) + 'Ab1']) {
  add(word);
}

// 6. UTF-16 length versus code points: astral characters straddling each minimum (1, 6, 8, 10,
//    12, 20), where the code point count is below the minimum but the UTF-16 length is not.
for (let target = 0; target <= 22; target++) {
  for (let k = 0; 2 * k <= target; k++) {
    const ascii = fromClasses(shuffle(classNames).slice(0, 1 + int(4)), target - 2 * k);
    const astral = Array.from({ length: k }, () => pick(ASTRAL));
    const pw = shuffle([...chars(ascii), ...astral]).join('');
    if (utf16(pw) !== target) throw new Error(`bad utf16 length for ${JSON.stringify(pw)}`);
    add(pw);
  }
}
for (let n = 1; n <= 12; n++) {
  add('😀'.repeat(n));
  add('Ab1' + '😀'.repeat(n));
  add('a' + '👍🏽'.repeat(n));
}

// 7. Random mixes, up to TARGET.
const randomStart = passwords.length;
while (passwords.length < TARGET) {
  const len = int(25);
  let pw = Array.from({ length: len }, () => pick(ANY)).join('');
  if (rand() < 0.2) {
    const at = int(chars(pw).length + 1);
    const cs = chars(pw);
    cs.splice(at, 0, pick(ANY).repeat(2 + int(3)));
    pw = cs.join('');
  }
  add(pw);
}

// --- policies ----------------------------------------------------------------------------------
const LEVELS = ['none', 'low', 'fair', 'good', 'excellent'];
const MIN_LENGTHS = [1, 6, 12, 20];

const policies = [];
for (const level of LEVELS) {
  const named = sheriff(level); // password-sheriff's own named policy
  const fromRules = new PasswordPolicy(auth0Policies[level]);
  // auth0-password-policies must describe exactly the same policy as password-sheriff's preset.
  if (named.toString() !== fromRules.toString()) throw new Error(`${level}: toString differs`);
  for (const pw of passwords) {
    if (!isDeepStrictEqual(named.missing(pw), fromRules.missing(pw)) ||
        JSON.stringify(named.missing(pw)) !== JSON.stringify(fromRules.missing(pw)) ||
        named.check(pw) !== fromRules.check(pw)) {
      throw new Error(`${level}: presets disagree on ${JSON.stringify(pw)}`);
    }
  }
  policies.push({ id: level, policy: level, minLength: null, impl: named });
}
// Auth0's password_complexity_options.min_length replaces the length rule's minLength.
for (const level of ['good', 'excellent']) {
  for (const minLength of MIN_LENGTHS) {
    const rules = { ...auth0Policies[level], length: { minLength } };
    policies.push({
      id: `${level}/min_length=${minLength}`,
      policy: level,
      minLength,
      impl: new PasswordPolicy(rules),
    });
  }
}

// The min_length overrides only change the length rule, so they get a subset (keeping the fixture
// under ~3 MB): every password whose UTF-16 length is within one of the override, every third of
// the structured ones above, and every tenth random one.
function inOverrideSubset(pw, i, minLength) {
  const len = utf16(pw);
  if (Math.abs(len - minLength) <= 1) return true;
  return i < randomStart ? i % 3 === 0 : i % 10 === 0;
}

// --- evaluate ----------------------------------------------------------------------------------
const missingTable = [];
const missingIndex = new Map();
function intern(missing) {
  const key = JSON.stringify(missing);
  if (!missingIndex.has(key)) {
    missingIndex.set(key, missingTable.length);
    missingTable.push(missing);
  }
  return missingIndex.get(key);
}

const cases = [];
for (const p of policies) {
  passwords.forEach((pw, i) => {
    if (p.minLength !== null && !inOverrideSubset(pw, i, p.minLength)) return;
    cases.push({
      password: pw,
      policy: p.id,
      verified: p.impl.check(pw),
      missing: intern(p.impl.missing(pw)),
    });
  });
}

// --- write -------------------------------------------------------------------------------------
// One case per line, so that a regenerated fixture diffs readably. `missing` indexes the table of
// distinct `missing()` results (verbatim, key order included), which keeps the file small.
const lines = [];
lines.push('{');
lines.push(`"generator": ${JSON.stringify('tests/password-sheriff/generate.mjs')},`);
lines.push(`"passwordSheriff": ${JSON.stringify(sheriffVersion)},`);
lines.push(`"auth0PasswordPolicies": ${JSON.stringify(policiesVersion)},`);
lines.push(`"seed": ${SEED},`);
lines.push(`"passwords": ${passwords.length},`);
lines.push('"policies": [');
lines.push(policies.map((p) => JSON.stringify({ id: p.id, policy: p.policy, minLength: p.minLength, toString: p.impl.toString() })).join(',\n'));
lines.push('],');
lines.push('"missing": [');
lines.push(missingTable.map((m) => JSON.stringify(m)).join(',\n'));
lines.push('],');
lines.push('"cases": [');
lines.push(cases.map((c) => JSON.stringify(c)).join(',\n'));
lines.push(']');
lines.push('}');
const text = lines.join('\n') + '\n';
JSON.parse(text);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text);
console.log(`${passwords.length} passwords, ${policies.length} policies, ${cases.length} cases, ` +
  `${missingTable.length} distinct missing() results, ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB -> ${out}`);
