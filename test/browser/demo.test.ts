// The demo app (apps/demo) end to end in real headless Chromium: built once with Vite, served by
// its own server (static files + Syncline on one origin, a fresh SQLite file per test), driven
// through accessible roles and labels as a person would use it.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { silentLogger } from '@syncline/server';
import { buildDemo } from '../../apps/demo/build.js';
import { startDemoServer, type DemoServer } from '../../apps/demo/server.js';
import { launchBrowser, screenshot, type TestBrowser, type TestContext } from './harness.js';

const WAIT = { timeout: 10_000 };
/** A card the demo writes on an empty board; once both devices show it, the page is ready. */
const WELCOME = 'Switch a device offline and edit';

let tmp: string | undefined;
let staticDir: string | undefined;
let browser: TestBrowser | undefined;
let server: DemoServer | undefined;
let serial = 0;
const contexts: TestContext[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'syncline-demo-'));
  staticDir = join(tmp, 'dist');
  await buildDemo({ outDir: staticDir });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  }
}, 30_000);

beforeEach(async () => {
  browser?.errors.splice(0);
  if (tmp === undefined || staticDir === undefined) throw new Error('beforeAll did not finish');
  // A fresh server and database per test: every test starts from an empty board.
  server = await startDemoServer({
    port: 0,
    dbPath: join(tmp, `demo-${++serial}.db`),
    staticDir,
    logger: silentLogger,
  });
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.context.close();
  await server?.close();
  server = undefined;
});

/** Opens the demo in a new browser context (its own IndexedDB: a separate pair of devices). */
async function openDemo(path = '/'): Promise<Page> {
  if (browser === undefined || server === undefined) throw new Error('not started');
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${server.url}${path}`);
  await ready(page);
  return page;
}

/** Both devices online, caught up and idle, with the welcome cards shown. */
async function ready(page: Page): Promise<void> {
  for (const name of ['Device A', 'Device B']) {
    const d = device(page, name);
    await card(d, WELCOME).waitFor(WAIT);
    await expectStatus(d, /^Online · 0 changes pending/);
  }
}

function device(page: Page, name: string): Locator {
  return page.getByRole('region', { name, exact: true });
}

function card(scope: Locator, title: string): Locator {
  return scope.getByRole('article', { name: title, exact: true });
}

function status(d: Locator): Locator {
  return d.getByRole('status', { name: / sync status$/ });
}

async function expectStatus(d: Locator, text: RegExp): Promise<void> {
  await expect.poll(async () => (await status(d).textContent())?.trim(), WAIT).toMatch(text);
}

async function setOnline(d: Locator, online: boolean): Promise<void> {
  await d.getByRole('switch', { name: 'Online' }).setChecked(online);
  await expectStatus(d, online ? /^Online/ : /^Offline/);
}

async function addCard(d: Locator, title: string): Promise<void> {
  // By keyboard: Enter in the field submits the form.
  await d.getByLabel('New card').fill(title);
  await d.getByLabel('New card').press('Enter');
  await card(d, title).waitFor(WAIT);
}

/** Opens a card's details on a device; returns the details region. */
async function openCard(d: Locator, title: string): Promise<Locator> {
  await card(d, title).getByRole('button', { name: /^Open/ }).click();
  const details = d.getByRole('region', { name: `Card: ${title}`, exact: false });
  await details.waitFor(WAIT);
  return details;
}

async function editCard(d: Locator, title: string, changes: { title?: string; notes?: string }) {
  const details = await openCard(d, title);
  if (changes.title !== undefined) await details.getByLabel('Title', { exact: true }).fill(changes.title);
  if (changes.notes !== undefined) await details.getByLabel('Notes').fill(changes.notes);
  await details.getByRole('button', { name: 'Save changes' }).click();
  // The details' heading (its name) follows the title: find the rest by the device.
  await d.getByText('Saved on this device.').waitFor(WAIT);
  await d.getByRole('button', { name: 'Close' }).click();
}

function likeButton(d: Locator, title: string): Locator {
  return card(d, title).getByRole('button', { name: /^Like/ });
}

/** Opens the inspector of a device, waits until its scope hash equals the server's, returns it. */
async function expectConverged(d: Locator): Promise<string> {
  const verdict = d.getByRole('status', { name: 'Scope hash' });
  if ((await verdict.count()) === 0) await d.getByText('Inspector: outbox, versions, cursor, hash').click();
  await expect.poll(async () => (await verdict.textContent())?.trim(), WAIT).toBe('Equal to the server');
  // The local hash and record count, e.g. "734252cc4e (3 records)".
  const local = await d.getByRole('definition').filter({ hasText: 'records' }).first().textContent();
  return local ?? '';
}

function expectNoErrors(): void {
  expect(browser?.errors).toEqual([]);
}

it('a card created on device A shows up on device B', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');

  await addCard(a, 'Write the launch post');
  const onB = card(b, 'Write the launch post');
  await onB.waitFor(WAIT);
  expect(await onB.getByText('Ada', { exact: true }).count()).toBe(1);
  // It landed in B's "To do" column.
  await card(b.getByRole('group', { name: /^To do/ }), 'Write the launch post').waitFor(WAIT);
  await expectStatus(a, /^Online · 0 changes pending/);
  await screenshot(page, 'demo-1-create-on-a-seen-on-b');
  expectNoErrors();
});

it('an offline edit on A reaches B after reconnecting', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await addCard(a, 'Order team shirts');
  await card(b, 'Order team shirts').waitFor(WAIT);

  await setOnline(a, false);
  await editCard(a, 'Order team shirts', { title: 'Order team shirts (size M)' });
  await expectStatus(a, /^Offline · 1 change pending/);
  const offlineCard = card(a, 'Order team shirts (size M)');
  await offlineCard.getByText('Not synced yet').waitFor(WAIT);
  // B still has the old title: A's change is only on A.
  expect(await card(b, 'Order team shirts').count()).toBe(1);
  expect(await card(b, 'Order team shirts (size M)').count()).toBe(0);
  await screenshot(page, 'demo-2-offline-edit-pending');

  await setOnline(a, true);
  await card(b, 'Order team shirts (size M)').waitFor(WAIT);
  await expectStatus(a, /^Online · 0 changes pending/);
  expect(await card(b, 'Order team shirts').count()).toBe(0);
  expect(await offlineCard.getByText('Not synced yet').count()).toBe(0);
  await screenshot(page, 'demo-2-offline-edit-synced');
  expectNoErrors();
});

it('concurrent edits of one field land in the inbox; a field-by-field merge makes both devices equal', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await addCard(a, 'Plan the offsite');
  await card(b, 'Plan the offsite').waitFor(WAIT);

  await setOnline(a, false);
  await editCard(a, 'Plan the offsite', { title: 'Offsite in Lisbon', notes: 'Book flights early' });
  await editCard(b, 'Plan the offsite', { title: 'Offsite in Porto' });
  await expectStatus(b, /^Online · 0 changes pending/);
  await setOnline(a, true);

  const inbox = a.getByRole('region', { name: 'Device A Conflict inbox', exact: false });
  await inbox.waitFor(WAIT);
  await expectStatus(a, /1 conflict$/);
  const row = inbox.getByRole('row', { name: /^Title/ });
  expect((await row.getByRole('cell').allTextContents()).map((t) => t.trim())).toEqual([
    'Plan the offsite',
    'Offsite in Lisbon',
    'Offsite in Porto',
  ]);
  expect(await row.getByText('changed on both').count()).toBe(1);
  // The notes changed only here, so the merge keeps mine by default.
  expect(await inbox.getByRole('radio', { name: 'Use mine for Notes' }).isChecked()).toBe(true);
  await screenshot(page, 'demo-3-conflict-inbox');

  await inbox.getByRole('radio', { name: 'Use theirs for Title' }).check();
  await inbox.getByRole('button', { name: 'Merge selected fields' }).click();
  await inbox.waitFor({ state: 'detached', ...WAIT });

  for (const d of [a, b]) {
    const merged = card(d, 'Offsite in Porto');
    await merged.getByText('Book flights early').waitFor(WAIT);
    await expectStatus(d, /^Online · 0 changes pending · 0 conflicts$/);
  }
  expect(await card(a, 'Offsite in Lisbon').count()).toBe(0);
  const [hashA, hashB] = [await expectConverged(a), await expectConverged(b)];
  expect(hashA).toBe(hashB);
  await screenshot(page, 'demo-3-conflict-resolved');
  expectNoErrors();
});

it('two offline likes on two devices add up to +2', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await addCard(a, 'Ship the beta');
  await card(b, 'Ship the beta').waitFor(WAIT);

  await setOnline(a, false);
  await setOnline(b, false);
  await likeButton(a, 'Ship the beta').click();
  await likeButton(b, 'Ship the beta').click();
  for (const d of [a, b]) {
    await expect.poll(() => likeButton(d, 'Ship the beta').textContent(), WAIT).toBe('♥ 1');
    await expectStatus(d, /^Offline · 1 change pending/);
  }
  await screenshot(page, 'demo-4-offline-likes');

  await setOnline(a, true);
  await setOnline(b, true);
  for (const d of [a, b]) {
    await expect.poll(() => likeButton(d, 'Ship the beta').textContent(), WAIT).toBe('♥ 2');
    expect(await likeButton(d, 'Ship the beta').getAttribute('aria-label')).toBe(
      'Like “Ship the beta”, 2 likes',
    );
    await expectStatus(d, /^Online · 0 changes pending · 0 conflicts$/);
  }
  await screenshot(page, 'demo-4-likes-merged');
  expectNoErrors();
});

it('restores an old version from the history timeline on both devices', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await addCard(a, 'Draft the budget');
  await editCard(a, 'Draft the budget', { title: 'Budget, second pass' });
  await editCard(b, 'Budget, second pass', { title: 'Budget, final', notes: 'Signed off by Ben' });
  await card(a, 'Budget, final').waitFor(WAIT);

  await openCard(a, 'Budget, final');
  // Found through the device: the details' name follows the card's title, which the restore changes.
  const history = a.getByRole('region', { name: 'Device A History' });
  // Timeline entries start with their version ("v4 Ada on this device…"); their change lists don't.
  const entries = history.getByRole('listitem').filter({ hasText: /^v\d+/ });
  await expect.poll(() => entries.count(), WAIT).toBe(3);
  expect(await entries.nth(0).textContent()).toContain('Ben');
  expect(await entries.nth(0).textContent()).toContain('Current version');
  expect(await entries.nth(2).textContent()).toContain('Created “Draft the budget”');
  await screenshot(page, 'demo-5-history');

  await entries
    .nth(2)
    .getByRole('button', { name: /^Restore version \d+$/ })
    .click();
  for (const d of [a, b]) await card(d, 'Draft the budget').waitFor(WAIT);
  expect(await card(b, 'Budget, final').count()).toBe(0);
  // The restore is a new version on top; nothing was rewritten.
  await expect.poll(() => entries.count(), WAIT).toBe(4);
  expect(await entries.nth(0).textContent()).toMatch(/Restored version \d+/);
  for (const d of [a, b]) await expectStatus(d, /^Online · 0 changes pending/);
  await screenshot(page, 'demo-5-restored');
  expectNoErrors();
});

it('a reload keeps offline edits, which sync once the device is back online', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');

  await setOnline(a, false);
  await addCard(a, 'Written on a train');
  await expectStatus(a, /^Offline · 1 change pending/);

  await page.reload();
  // Still offline after the reload (the switch is remembered), the card still there and queued.
  await card(a, 'Written on a train').getByText('Not synced yet').waitFor(WAIT);
  await expectStatus(a, /^Offline · 1 change pending/);
  expect(await a.getByRole('switch', { name: 'Online' }).isChecked()).toBe(false);
  await card(b, WELCOME).waitFor(WAIT);
  expect(await card(b, 'Written on a train').count()).toBe(0);
  await screenshot(page, 'demo-6-after-reload-offline');

  await setOnline(a, true);
  await card(b, 'Written on a train').waitFor(WAIT);
  await expectStatus(a, /^Online · 0 changes pending/);
  await screenshot(page, 'demo-6-synced-after-reload');
  expectNoErrors();
});

it('a second browser context sees changes live, both ways', async () => {
  const first = await openDemo();
  const second = await openDemo();

  await addCard(device(first, 'Device A'), 'Review the pull request');
  for (const name of ['Device A', 'Device B'])
    await card(device(second, name), 'Review the pull request').waitFor(WAIT);

  // Moved to Done in the second window: the first one follows.
  await card(device(second, 'Device B'), 'Review the pull request')
    .getByRole('combobox', { name: /^Status of/ })
    .selectOption('done');
  const doneOnFirst = device(first, 'Device B').getByRole('group', { name: /^Done/ });
  await card(doneOnFirst, 'Review the pull request').waitFor(WAIT);
  await card(
    device(first, 'Device A').getByRole('group', { name: /^Done/ }),
    'Review the pull request',
  ).waitFor(WAIT);
  await screenshot(first, 'demo-7-first-window');
  await screenshot(second, 'demo-7-second-window');
  expectNoErrors();
});

it('the demo server serves the build and Syncline on one origin, and nothing outside the build', async () => {
  if (server === undefined || tmp === undefined) throw new Error('not started');
  const { url } = server;
  const index = await fetch(`${url}/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('content-type')).toMatch(/^text\/html/);
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
  expect(script).toBeDefined();
  const js = await fetch(`${url}${script}`);
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(js.headers.get('cache-control')).toContain('immutable');
  await js.arrayBuffer();
  // Syncline's own routes on the same server.
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  // A path without an extension is the app; a missing file is a 404; `..` never leaves the build.
  expect((await fetch(`${url}/some/deep/link`)).headers.get('content-type')).toMatch(/^text\/html/);
  expect((await fetch(`${url}/missing.js`)).status).toBe(404);
  const page = await openDemo('/some/deep/link');
  await screenshot(page, 'demo-8-deep-link');
  const escaped = await new Promise<number | undefined>((resolve, reject) => {
    request(`${url}/..%2f..%2fpackage.json`, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on('error', reject)
      .end();
  });
  expect(escaped).toBe(403);
  // Without a build it says so instead of serving nothing.
  await expect(
    startDemoServer({ port: 0, dbPath: join(tmp, 'unbuilt.db'), staticDir: join(tmp, 'nothing-here') }),
  ).rejects.toThrow(/no built demo/);
  expectNoErrors();
});
