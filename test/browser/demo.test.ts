// The demo app (apps/demo) end to end in real headless Chromium: built once with Vite, served by
// its own server (static files + Syncline on one origin, a fresh SQLite file per test), driven
// through accessible roles and labels as a person would use it.
import { appendFile, cp, mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { silentLogger } from '@syncline/server';
import { buildDemo } from '../../apps/demo/build.js';
import { startDemoServer, type DemoServer } from '../../apps/demo/server.js';
import { launchBrowser, screenshot, type TestBrowser, type TestContext } from './harness.js';
import { closeSuite } from './suite.js';

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

afterAll(() => closeSuite({ browser, tmp }), 30_000);

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
async function openDemo(path = '/', width = 1440): Promise<Page> {
  if (browser === undefined || server === undefined) throw new Error('not started');
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.context.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.goto(`${server.url}${path}`);
  await ready(page);
  return page;
}

/**
 * What a person would see as broken layout: a status piece (the connection pill, the counts)
 * wrapped inside or running out of its bar, a visible "·" not between two pieces on one line,
 * a status line of more than two rows, a last-synced line on two rows, a card's notes cut off.
 */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const box = (e: Element) => e.getBoundingClientRect();
    const lineHeight = (e: Element) => {
      const style = getComputedStyle(e);
      const lh = parseFloat(style.lineHeight);
      return Number.isFinite(lh) ? lh : parseFloat(style.fontSize) * 1.45;
    };
    for (const line of document.querySelectorAll('.status-line')) {
      const name = line.getAttribute('aria-label') ?? '?';
      const bar = box(line);
      const pieces = [...line.querySelectorAll(':scope > .conn, :scope > .counts')];
      if (pieces.length !== 2) problems.push(`${name}: ${pieces.length} pieces`);
      for (const piece of pieces) {
        const b = box(piece);
        if (b.height > 1.9 * lineHeight(piece)) problems.push(`${name}: "${piece.textContent}" wraps`);
        if (b.right > bar.right + 1 || b.left < bar.left - 1)
          problems.push(`${name}: "${piece.textContent}" overflows`);
      }
      for (const sep of line.querySelectorAll('.sep')) {
        if (sep.getClientRects().length === 0) continue;
        const [prev, next] = [sep.previousElementSibling, sep.nextElementSibling];
        const mid = (e: Element) => (box(e).top + box(e).bottom) / 2;
        if (!prev || !next || Math.abs(mid(prev) - mid(sep)) > 4 || Math.abs(mid(next) - mid(sep)) > 4)
          problems.push(`${name}: a dangling separator`);
      }
      const rows = pieces.reduce((h, p) => h + box(p).height, 0) + 8;
      if (bar.height > rows) problems.push(`${name}: ${bar.height}px tall, more than two rows`);
    }
    for (const p of document.querySelectorAll('.last-synced')) {
      if (box(p).height > 1.9 * lineHeight(p)) problems.push(`"${p.textContent}" wraps`);
    }
    for (const notes of document.querySelectorAll('.card-notes')) {
      if (notes.scrollHeight > notes.clientHeight + 1) problems.push(`notes cut off: "${notes.textContent}"`);
    }
    return problems;
  });
}

/** The top of a device's board, in page coordinates. */
async function boardTop(d: Locator): Promise<number> {
  return d.locator('.board').evaluate((e) => e.getBoundingClientRect().top + window.scrollY);
}

/** Opens a device's conflict inbox drawer from its status line; returns the drawer. */
async function openInbox(d: Locator, name: string): Promise<Locator> {
  await status(d)
    .getByRole('button', { name: /conflicts?$/ })
    .click();
  const inbox = d.getByRole('region', { name: `${name} Conflict inbox`, exact: false });
  await inbox.waitFor(WAIT);
  return inbox;
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

it('presence: a card open on A shows Ada on it on B, with a pencil while editing, and goes when closed', async () => {
  const page = await openDemo();
  await ready(page);
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  const onB = card(b, WELCOME);
  const details = await openCard(a, WELCOME);
  await onB.getByRole('listitem', { name: 'Ada is viewing this card' }).waitFor(WAIT);
  await details.getByLabel('Notes').fill('typing…');
  await onB.getByRole('listitem', { name: 'Ada is editing this card' }).waitFor(WAIT);
  await screenshot(page, 'demo-presence-editing-on-a-seen-on-b');
  // A sees no avatar of its own on the card.
  expect(await card(a, WELCOME).getByRole('list', { name: 'Also here' }).count()).toBe(0);
  await details.getByRole('button', { name: /^Discard/ }).click();
  await a.getByRole('button', { name: 'Close' }).click();
  await onB.getByRole('list', { name: 'Also here' }).waitFor({ ...WAIT, state: 'detached' });
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
  const top = await boardTop(a);
  await setOnline(a, true);

  await expectStatus(a, /1 conflict$/);
  // The conflict is a badge on the status line: the board stays where it was.
  expect(await boardTop(a)).toBe(top);
  await screenshot(page, 'demo-3-conflict-badge');
  const inbox = await openInbox(a, 'Device A');
  // A drawer over the board, anchored under the status bar, not a block that pushes it down.
  expect(await boardTop(a)).toBe(top);
  const [inboxBox, barBox] = [await inbox.boundingBox(), await status(a).boundingBox()];
  expect(inboxBox !== null && barBox !== null && inboxBox.y > barBox.y && inboxBox.y < top).toBe(true);
  expect(await layoutProblems(page)).toEqual([]);
  // On a phone the drawer fits the screen (its table scrolls inside it).
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await layoutProblems(page)).toEqual([]);
  const phoneInbox = await inbox.boundingBox();
  expect(phoneInbox !== null && phoneInbox.x >= 0 && phoneInbox.x + phoneInbox.width <= 390).toBe(true);
  await inbox.screenshot({ path: await screenshot(page, 'demo-3-conflict-inbox-phone') });
  await page.setViewportSize({ width: 1440, height: 900 });
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

it('a conflict with likes on both devices: the inbox shows the likes merged, and merging fields keeps both', async () => {
  const page = await openDemo();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await addCard(a, 'Pack the booth');
  await card(b, 'Pack the booth').waitFor(WAIT);

  await setOnline(a, false);
  await editCard(a, 'Pack the booth', { title: 'Pack the booth by Friday' });
  await likeButton(a, 'Pack the booth by Friday').click();
  await editCard(b, 'Pack the booth', { notes: 'Banner is in the van' });
  await likeButton(b, 'Pack the booth').click();
  await expectStatus(b, /^Online · 0 changes pending/);
  await setOnline(a, true);

  await expectStatus(a, /1 conflict$/);
  await expect.poll(() => likeButton(a, 'Pack the booth').textContent(), WAIT).toBe('♥ 2');
  const inbox = await openInbox(a, 'Device A');
  // The inbox agrees with the board: likes are not a choice, they add up.
  const likes = inbox.getByRole('row', { name: /^Likes/ });
  await expect.poll(() => likes.textContent(), WAIT).toMatch(/2 merged automatically/);
  expect(await inbox.getByRole('radio', { name: /for Likes$/ }).count()).toBe(0);
  await inbox.getByRole('button', { name: 'Merge selected fields' }).click();
  await inbox.waitFor({ state: 'detached', ...WAIT });

  for (const d of [a, b]) {
    const merged = card(d, 'Pack the booth by Friday');
    await merged.getByText('Banner is in the van').waitFor(WAIT);
    await expect.poll(() => likeButton(d, 'Pack the booth by Friday').textContent(), WAIT).toBe('♥ 2');
    await expectStatus(d, /^Online · 0 changes pending · 0 conflicts$/);
  }
  expect(await expectConverged(a)).toBe(await expectConverged(b));
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

/** Waits until the service worker has cached the app's shell ("Works offline" in the header). */
async function installed(page: Page): Promise<void> {
  await page.getByText('Works offline').waitFor(WAIT);
  expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state)).toBe(
    'activated',
  );
}

it('opens with the network off (service worker + IndexedDB), keeps the pending edit, syncs when the network is back', async () => {
  const page = await openDemo();
  const context = page.context();
  const a = device(page, 'Device A');
  const b = device(page, 'Device B');
  await installed(page);

  // The browser's own offline mode, not the demo's switch: both devices follow it at once.
  await context.setOffline(true);
  for (const d of [a, b]) {
    await expectStatus(d, /^Offline · 0 changes pending/);
    expect(await d.getByRole('switch', { name: 'Online' }).isChecked()).toBe(true);
    await expect.poll(() => d.getByText(/^Last synced /).textContent(), WAIT).toMatch(/ · no network$/);
  }
  await page
    .getByRole('status')
    .filter({ hasText: /^No network: working from this browser/ })
    .waitFor(WAIT);
  await addCard(a, 'Written without a network');
  await expectStatus(a, /^Offline · 1 change pending/);

  const reloaded = await page.reload();
  // The page came from the worker's cache: the server is unreachable.
  expect(reloaded?.fromServiceWorker()).toBe(true);
  await card(a, 'Written without a network').getByText('Not synced yet').waitFor(WAIT);
  await card(b, WELCOME).waitFor(WAIT);
  await expectStatus(a, /^Offline · 1 change pending/);
  expect(await card(b, 'Written without a network').count()).toBe(0);
  // Syncline's routes are never answered from the cache: offline they fail like any request.
  const routes = await page.evaluate(async () => {
    const results: string[] = [];
    for (const path of ['/healthz', '/v1/changes', '/metrics', '/socket.io/?EIO=4&transport=polling']) {
      results.push(
        await fetch(path).then(
          (r) => `${path} ${r.status}`,
          () => `${path} failed`,
        ),
      );
    }
    return results;
  });
  expect(routes).toEqual([
    '/healthz failed',
    '/v1/changes failed',
    '/metrics failed',
    '/socket.io/?EIO=4&transport=polling failed',
  ]);
  expect(await layoutProblems(page)).toEqual([]);
  await screenshot(page, 'demo-9-reloaded-without-network');

  await context.setOffline(false);
  await card(b, 'Written without a network').waitFor(WAIT);
  for (const d of [a, b]) await expectStatus(d, /^Online · 0 changes pending/);
  expect(await card(a, 'Written without a network').getByText('Not synced yet').count()).toBe(0);
  // It reached the server: another browser (its own devices) gets it too.
  const other = await openDemo();
  await card(device(other, 'Device A'), 'Written without a network').waitFor(WAIT);
  // Online, a navigation to Syncline's routes reaches the server, not the cached app.
  const health = await page.goto(`${server?.url ?? ''}/healthz`);
  expect(health?.fromServiceWorker()).toBe(false);
  expect(health?.headers()['content-type']).toMatch(/^application\/json/);
  await screenshot(other, 'demo-9-synced-after-network-back');
  // The only errors: the four probes above failing offline, and Chromium asking the JSON page
  // for /favicon.ico (404). The app itself logged nothing.
  const expected =
    /\/(healthz|v1\/changes|metrics|socket\.io\/\?EIO=4&transport=polling):0: Failed to load resource: net::ERR_INTERNET_DISCONNECTED$|\/favicon\.ico:0: .*404/;
  expect(browser?.errors.filter((e) => !expected.test(e))).toEqual([]);
});

it('without the service worker the same offline reload fails (the emulation is real)', async () => {
  if (browser === undefined || server === undefined) throw new Error('not started');
  const context = await browser.browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    await page.goto(server.url);
    await card(device(page, 'Device A'), WELCOME).waitFor(WAIT);
    await context.setOffline(true);
    await expect(page.reload()).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
  } finally {
    await context.close();
  }
});

it('a single tab never shows the follower state; a second tab does, and every status line stays whole', async () => {
  if (browser === undefined || server === undefined) throw new Error('not started');
  const context = await browser.newContext();
  contexts.push(context);
  // Records any moment a follower text is on screen, from the first paint on.
  await context.context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __followerSeen: string[] }).__followerSeen = seen;
    new MutationObserver(() => {
      const text = document.body?.textContent ?? '';
      for (const t of ['Another tab syncs this device', 'Synced by another tab'])
        if (text.includes(t) && !seen.includes(t)) seen.push(t);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = await context.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url);
  await ready(page);
  const followerSeen = () =>
    page.evaluate(() => (window as unknown as { __followerSeen: string[] }).__followerSeen);
  expect(await followerSeen()).toEqual([]);
  expect(await layoutProblems(page)).toEqual([]);
  await screenshot(page, 'demo-10-phone-online');

  const a = device(page, 'Device A');
  await setOnline(a, false);
  await addCard(a, 'Pending on a phone');
  await expectStatus(a, /^Offline · 1 change pending/);
  expect(await layoutProblems(page)).toEqual([]);
  await screenshot(page, 'demo-10-phone-offline-pending');

  // A second tab of the same browser: the first one syncs both devices, this one follows.
  const second = await context.context.newPage();
  await second.setViewportSize({ width: 390, height: 844 });
  await second.goto(server.url);
  for (const name of ['Device A', 'Device B']) {
    const d = device(second, name);
    await card(d, WELCOME).waitFor(WAIT);
    await expectStatus(d, /^Synced by another tab · /);
    await d.getByText('Another tab syncs this device').waitFor(WAIT);
  }
  expect(await layoutProblems(second)).toEqual([]);
  await screenshot(second, 'demo-10-phone-follower-tab');

  // The server goes away: both devices of the first tab keep retrying.
  await setOnline(a, true);
  await server.close();
  for (const name of ['Device A', 'Device B'])
    await expectStatus(device(page, name), /^(Reconnecting|Connecting)… · /);
  expect(await layoutProblems(page)).toEqual([]);
  await screenshot(page, 'demo-10-phone-reconnecting');
  await page.setViewportSize({ width: 1440, height: 900 });
  expect(await layoutProblems(page)).toEqual([]);
  await screenshot(page, 'demo-10-desktop-reconnecting');
});

it('a new build waits for "Reload", then takes over the page cleanly', async () => {
  if (tmp === undefined || staticDir === undefined || server === undefined) throw new Error('not started');
  // A copy of the build served by its own server: this test changes its worker.
  const copy = join(tmp, `dist-update-${serial}`);
  await cp(staticDir, copy, { recursive: true });
  await server.close();
  server = await startDemoServer({
    port: 0,
    dbPath: join(tmp, `update-${serial}.db`),
    staticDir: copy,
    logger: silentLogger,
  });
  const page = await openDemo();
  await installed(page);
  await addCard(device(page, 'Device A'), 'Made before the update');
  // A returning visitor: the page is controlled by the installed worker.
  await page.reload();
  await ready(page);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // The next build: a worker that differs by a byte. The browser's update check finds it.
  await appendFile(join(copy, 'sw.js'), '\n// next build\n');
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  const prompt = page.getByRole('alert').filter({ hasText: 'A new version of the demo is ready.' });
  await prompt.waitFor(WAIT);
  // Waiting, not active: the running page is untouched until the person says so.
  expect(
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting?.state),
  ).toBe('installed');
  await screenshot(page, 'demo-11-update-prompt');
  await Promise.all([
    page.waitForEvent('load', WAIT),
    prompt.getByRole('button', { name: 'Reload' }).click(),
  ]);
  // The page reloads under the new worker once it controls the page; wait for that state first
  // (an evaluate during a reload throws and is polled again), so the checks below read the page
  // that the new worker serves, not one that is about to go away.
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const reg = await navigator.serviceWorker.getRegistration();
          const active = reg?.active;
          return (
            reg?.waiting == null &&
            active?.state === 'activated' &&
            navigator.serviceWorker.controller?.scriptURL === active.scriptURL
          );
        }),
      WAIT,
    )
    .toBe(true);
  await ready(page);
  await card(device(page, 'Device A'), 'Made before the update').waitFor(WAIT);
  expect(await page.getByText('A new version of the demo is ready.').count()).toBe(0);
  const after = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return {
      waiting: reg?.waiting ?? null,
      active: reg?.active?.state,
      controlled: navigator.serviceWorker.controller !== null,
    };
  });
  expect(after).toEqual({ waiting: null, active: 'activated', controlled: true });
  expectNoErrors();
});

it('`--dev` on the port of an earlier built demo retires its worker: the page comes from Vite', async () => {
  if (tmp === undefined || server === undefined) throw new Error('not started');
  const page = await openDemo();
  await installed(page);
  const { port } = server;
  await server.close();
  // The same origin and database, now with Vite's dev middleware instead of the build.
  server = await startDemoServer({
    port,
    dbPath: join(tmp, `demo-${serial}.db`),
    dev: true,
    logger: silentLogger,
  });
  // The old worker still answers this navigation, and the update check gets the retiring worker,
  // which unregisters itself and reloads the page: from then on the sources come from Vite.
  await page.reload();
  await expect
    .poll(() => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), WAIT)
    .toBe(0);
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller === null), WAIT).toBe(true);
  await page.reload();
  await ready(page);
  expect(await page.locator('script[src="/src/main.tsx"]').count()).toBe(1);
}, 60_000);

it('the demo server serves the build and Syncline on one origin, and nothing outside the build', async () => {
  if (server === undefined || tmp === undefined) throw new Error('not started');
  const { url } = server;
  const index = await fetch(`${url}/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('content-type')).toMatch(/^text\/html/);
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
  expect(script).toBeDefined();
  // The installable app: its manifest and the Workbox worker, always revalidated.
  const manifest = await fetch(`${url}/manifest.webmanifest`);
  expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
  expect(((await manifest.json()) as { icons: unknown[] }).icons.length).toBeGreaterThan(1);
  const worker = await fetch(`${url}/sw.js`);
  expect(worker.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(worker.headers.get('cache-control')).toBe('no-cache');
  expect(await worker.text()).toContain('precacheAndRoute');
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
