// End-to-end: the phone remote against the real host, real Aider and the local Messages API
// stand-in, in Debian's Chromium at a 390×844 touch viewport. Screenshots go to
// target/e2e-artifacts/. Run with `npm run e2e` in src-ui.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  ARTIFACTS,
  KEY,
  buildAll,
  cleanup,
  fixtureRepo,
  launchBrowser,
  qrCameraFile,
  log,
  phoneContext,
  shot,
  startFakeClaude,
  startHost,
  tempDir,
} from './harness.mjs';

const git = (repo, ...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

const edit = (path, search, replace) =>
  `Done.\n\n${path}\n\`\`\`\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

/** No sideways page scroll, and every visible control at least 44×44 CSS px. */
async function assertPhoneErgonomics(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${where}: page scrolls sideways (${width}px wide)`);
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('button, a.btn, [role=tab], summary, select, input:not([type=radio]):not([type=checkbox]), textarea')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && !el.closest('dialog:not([open])');
      })
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 43.5 || r.height < 43.5)
      .map(({ el, r }) => `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ')[0] : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
  assert.deepEqual(small, [], `${where}: touch targets under 44 px`);
}

/**
 * Everything the page keeps on the device (localStorage and every IndexedDB store), as one
 * string: the master key must never be in it.
 */
/**
 * Shows the conversation tab and waits until it is the selected one. A tap that lands while a
 * dialog is closing can be swallowed by its backdrop, so the selection is checked, not assumed.
 */
async function showConversation(page) {
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  const tab = page.locator('#tab-chat');
  for (let attempt = 0; attempt < 5; attempt++) {
    await tab.tap();
    try {
      await page.locator('#tab-chat[aria-selected=true]').waitFor({ timeout: 2_000 });
      return;
    } catch {
      // tapped during a transition: tap again
    }
  }
  assert.fail('the conversation tab never became selected');
}

function deviceStorage(page) {
  return page.evaluate(async () => {
    const out = [JSON.stringify({ ...localStorage })];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      for (const store of db.objectStoreNames) {
        const rows = await new Promise((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        out.push(`${name}/${store}: ${JSON.stringify(rows)}`);
      }
      db.close();
    }
    return out.join('\n');
  });
}

/** On the pair screen with a code: name this device and pair; lands on the sessions. */
async function nameAndPair(page, name) {
  await page.locator('#device-name').waitFor();
  assert.ok((await page.inputValue('#device-name')).trim(), 'the device name is prefilled');
  await page.fill('#device-name', name);
  // click, not tap: the desktop context has no touch screen.
  await page.getByRole('button', { name: 'Pair this device' }).click();
  await page.getByRole('heading', { name: 'Sessions' }).waitFor();
}

const state = {};

/** Runs a scenario; on failure leaves a screenshot of the page as it was. */
function scenario(name, body) {
  return async () => {
    await state.context.setOffline(false);
    try {
      await body();
    } catch (e) {
      await shot(state.page, `FAILED-${name}`).catch(() => undefined);
      throw e;
    }
  };
}

describe('phone remote against the real host', { timeout: 12 * 60_000 }, () => {
  before(async () => {
    buildAll();
    state.claude = await startFakeClaude();
    state.repo = fixtureRepo();
    state.data = tempDir('data');
    state.host = await startHost({ repo: state.repo, data: state.data, claudeUrl: state.claude.url });
    log(`host at ${state.host.base}; screenshots in ${ARTIFACTS}`);
    state.browser = await launchBrowser();
    state.context = await phoneContext(state.browser);
    state.page = await state.context.newPage();
    state.errors = [];
    state.page.on('pageerror', (e) => state.errors.push(e.message));
  });

  after(async () => {
    await cleanup();
  });

  it('pairs, runs a prompt with streamed text, reviews hunks, applies, undoes and merges', { timeout: 240_000 }, scenario('review', async () => {
    const { page, claude, host } = state;
    await page.goto(`${host.base}/app/`);
    await page.locator('#pair-input').waitFor();
    await shot(page, '01-pair');
    await assertPhoneErgonomics(page, 'pair');

    // A link with a key is refused, with what to do instead.
    await page.fill('#pair-input', `${host.base}/app/#/pair?key=${KEY}`);
    await page.getByRole('button', { name: 'Pair', exact: true }).tap();
    await page.locator('[data-testid=pair-error]', { hasText: 'Links with keys are no longer used' }).waitFor();

    // A pasted code link: name the device, pair.
    const { link } = await host.pairingCode();
    await page.fill('#pair-input', link);
    await page.getByRole('button', { name: 'Pair', exact: true }).tap();
    await page.locator('#device-name').waitFor();
    await shot(page, '01b-pair-name');
    await assertPhoneErgonomics(page, 'pair: device name');
    await nameAndPair(page, 'E2E phone');
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    assert.ok(!page.url().includes('code='), 'the code is not left in the address bar');
    await shot(page, '02-sessions');
    await assertPhoneErgonomics(page, 'sessions');

    await page.locator('[data-testid=new-session]').tap();
    await page.fill('#ns-title', 'Rename two functions');
    await page.locator('[data-testid=create-session]').tap();
    await page.locator('[data-testid=prompt-input]').waitFor();
    state.sessionId = /#\/s\/([^/]+)/.exec(page.url())?.[1];
    assert.ok(state.sessionId, 'on the session page');
    await assertPhoneErgonomics(page, 'session');

    await claude.push(
      { kind: 'text', text: 'I need src/lib.rs.' },
      {
        kind: 'text',
        // The second line is long: it must scroll inside its hunk, never widen the page.
        text: edit('src/lib.rs', 'fn line 5\n', 'fn five()\n') + edit('src/lib.rs', 'fn line 30\n', `fn thirty() { let s = "${'a long string literal '.repeat(8).trim()}"; }\n`),
        chunk_chars: 6,
        chunk_delay_ms: 40,
        usage: { input_tokens: 1500, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    );
    await page.fill('[data-testid=prompt-input]', 'Rename fn line 5 to five and fn line 30 to thirty');
    await page.locator('[data-testid=send-prompt]').tap();

    // Streaming: text on screen while the prompt still runs.
    await page.locator('[data-testid=prompt-card][data-state=running] [data-testid=agent-reply]').waitFor({ timeout: 90_000 });
    await shot(page, '03-streaming');
    const card = page.locator('[data-testid=prompt-card]').first();
    await page.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 90_000 });
    // The edit blocks show as cards of their proposed hunks, not as raw markers.
    await card.locator('[data-testid=proposed-card][data-status=proposed]', { hasText: 'fn thirty()' }).waitFor();
    assert.doesNotMatch(await card.innerText(), /<{7} SEARCH|>{7} REPLACE/);
    assert.match(await card.locator('[data-testid=prompt-state]').innerText(), /Done/);
    assert.match(await page.locator('[data-testid=session-usage]').innerText(), /\d(\.\d)?k in · \d+ out · \$0\.\d+/);
    await shot(page, '04-done');

    // The diff: two hunks, syntax-highlighted.
    await page.locator('[data-testid=tab-changes]').tap();
    const hunks = page.locator('[data-testid=hunk]');
    await hunks.nth(1).waitFor();
    assert.equal(await hunks.count(), 2);
    await page.locator('[data-testid=hunk] code.hljs span[class^="hljs-"]').first().waitFor();
    await shot(page, '05-changes');
    await assertPhoneErgonomics(page, 'changes');
    // The narrowest phone the issue names: still no sideways page scroll; the long line scrolls
    // inside its own hunk.
    await page.setViewportSize({ width: 360, height: 740 });
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'no sideways scroll at 360 px');
    const inner = await hunks.nth(1).locator('.code').evaluate((el) => [el.scrollWidth, el.clientWidth]);
    assert.ok(inner[0] > inner[1], 'the long line scrolls inside its hunk');
    await shot(page, '05b-changes-360');
    await page.setViewportSize({ width: 390, height: 844 });

    // Approve the second, reject the first with a comment.
    await hunks.nth(1).locator('[data-testid=approve-hunk]').tap();
    await page.locator('[data-testid=hunk][data-state=approved]').waitFor();
    await hunks.nth(0).locator('[data-testid=reject-hunk]').tap();
    await hunks.nth(0).locator('textarea').fill('keep line 5 as it is');
    await shot(page, '06-reject-comment');
    await hunks.nth(0).locator('[data-testid=confirm-reject]').tap();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hunk]').length === 1);
    assert.equal(await page.locator('[data-testid=hunk][data-state=approved]').count(), 1);
    await shot(page, '07-reviewed');

    // Apply (commit) with a message.
    await page.locator('[data-testid=apply]').tap();
    await page.locator('dialog[open] input').fill('thirty');
    await shot(page, '08-apply-dialog');
    await page.locator('dialog[open] [data-testid=confirm]').tap();
    await page.locator('[data-testid=commit]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hunk]').length === 0);
    const detail = await host.api('GET', `/sessions/${state.sessionId}`);
    assert.deepEqual(
      detail.commits.map((c) => c.message),
      ['thirty'],
    );
    await shot(page, '09-applied');

    // Undo: the commit goes, its change comes back approved.
    await page.locator('[data-testid=undo]').tap();
    await page.locator('dialog[open] [data-testid=confirm]').tap();
    await page.locator('[data-testid=hunk][data-state=approved]').waitFor();
    assert.equal(await page.locator('[data-testid=commit]').count(), 0);
    assert.deepEqual((await host.api('GET', `/sessions/${state.sessionId}`)).commits, []);
    await shot(page, '10-undone');


    // The same screen in the dark theme, and on a desktop.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300); // let colour transitions finish before the picture
    await shot(page, '11-changes-dark');
    await showConversation(page);
    await shot(page, '12-conversation-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    const desk = await state.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const dpage = await desk.newPage();
    await dpage.goto((await host.pairingCode()).link); // opened from the link: asks for the name
    await nameAndPair(dpage, 'E2E desktop');
    await dpage.goto(`${host.base}/app/#/s/${state.sessionId}`);
    await dpage.locator('[data-testid=hunk]').first().waitFor();
    await dpage.locator('[data-testid=hunk] code.hljs span[class^="hljs-"]').first().waitFor();
    await shot(dpage, '13-desktop');
    await dpage.emulateMedia({ colorScheme: 'dark' });
    await dpage.waitForTimeout(300);
    await shot(dpage, '14-desktop-dark');
    await desk.close();

    // Apply again, then merge: the work lands on main in the user's repository.
    await page.locator('[data-testid=tab-changes]').tap();
    await page.locator('[data-testid=apply]').tap();
    await page.locator('dialog[open] input').fill('thirty, again');
    await page.locator('dialog[open] [data-testid=confirm]').tap();
    await page.locator('[data-testid=commit]').waitFor();
    await page.locator('[data-testid=merge]').tap();
    await shot(page, '10b-merge-dialog');
    await page.locator('dialog[open] [data-testid=confirm]').tap();
    await page.locator('[data-testid=toast-info]', { hasText: 'Merged into main' }).waitFor();
    assert.match(git(state.repo, 'log', '--format=%s', 'main'), /^thirty, again$/m);
    assert.match(git(state.repo, 'show', 'main:src/lib.rs'), /fn thirty\(\)/);
    await shot(page, '10c-merged');
    assert.equal(await claude.queued(), 0, 'every scripted reply was used');
  }));

  it('comments on hunks, revises from the review notes and shows the revision round', { timeout: 240_000 }, scenario('revise', async () => {
    const { page, claude, host } = state;
    await claude.reset();
    const session = await host.api('POST', '/sessions', { title: 'Review that talks back' });
    await page.goto(`${host.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();

    await claude.push(
      { kind: 'text', text: 'I need src/lib.rs.' },
      { kind: 'text', text: edit('src/lib.rs', 'fn line 10\n', 'fn ten()\n') + edit('src/lib.rs', 'fn line 20\n', 'fn twenty()\n') },
    );
    await page.fill('[data-testid=prompt-input]', 'Rename fn line 10 to ten and fn line 20 to twenty');
    await page.locator('[data-testid=send-prompt]').tap();
    await page.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 120_000 });

    await page.locator('[data-testid=tab-changes]').tap();
    const hunks = page.locator('[data-testid=hunk]');
    await hunks.nth(1).waitFor();
    assert.equal(await hunks.count(), 2);

    // Comment on the second (kept) hunk, reject the first with a reason.
    const why = 'ten is too short, call it line_ten';
    const remark = 'twenty is fine but add a doc comment above it';
    await hunks.nth(1).locator('[data-testid=comment-hunk]').tap();
    await hunks.nth(1).locator('[data-testid=comment-text]').fill(remark);
    await shot(page, '26-comment');
    await assertPhoneErgonomics(page, 'comment form');
    await hunks.nth(1).locator('[data-testid=confirm-comment]').tap();
    await hunks.nth(1).locator('[data-testid=hunk-note]', { hasText: remark }).waitFor();
    await hunks.nth(0).locator('[data-testid=reject-hunk]').tap();
    await hunks.nth(0).locator('textarea').fill(why);
    await hunks.nth(0).locator('[data-testid=confirm-reject]').tap();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hunk]').length === 1);
    await page.locator('[data-testid=revise-count]', { hasText: '2' }).waitFor();
    await hunks.nth(0).locator('[data-testid=hunk-note]', { hasText: remark }).waitFor();
    await shot(page, '27-notes');
    await assertPhoneErgonomics(page, 'changes with notes');

    // Revise: the preview carries both notes and is editable; Send queues it.
    await page.locator('[data-testid=revise]').tap();
    const text = page.locator('dialog[open] [data-testid=revise-text]');
    await text.waitFor();
    const preview = await text.inputValue();
    assert.ok(preview.includes(why), 'the preview has the rejection reason');
    assert.ok(preview.includes(remark), 'the preview has the comment');
    assert.match(await page.locator('dialog[open] [data-testid=revise-files]').innerText(), /src\/lib\.rs/);
    await shot(page, '28-revise-preview');
    await claude.push({ kind: 'text', text: 'Revised as you asked.' });
    await page.locator('dialog[open] [data-testid=confirm]').tap();

    await showConversation(page);
    const round = page.locator('[data-testid=prompt-card][data-kind=revision]');
    await round.locator('[data-testid=revision-label]').waitFor();
    await page.locator('[data-testid=prompt-card][data-kind=revision][data-state=done]').waitFor({ timeout: 120_000 });
    const notes = round.locator('[data-testid=revision-notes]');
    await notes.waitFor();
    await notes.locator('summary').tap();
    const listed = await notes.innerText();
    assert.ok(listed.includes(why) && listed.includes(remark), 'the round lists the notes that caused it');
    assert.match(listed, /src\/lib\.rs/);
    await shot(page, '29-revision-round');
    await assertPhoneErgonomics(page, 'revision round');

    // What the agent really got: both comments and the quoted added lines.
    const requests = await claude.requests();
    const last = JSON.stringify(requests.at(-1).messages);
    for (const needle of [why, remark, '+fn ten()', '+fn twenty()']) {
      assert.ok(last.includes(needle), `the last API request contains ${needle}`);
    }
    await page.locator('[data-testid=tab-changes]').tap();
    await page.locator('[data-testid=revise]').waitFor();
    assert.equal(await page.locator('[data-testid=revise-count]').count(), 0, 'no notes left pending');
    const { prompts } = await host.api('GET', `/sessions/${session.id}/prompts`);
    assert.deepEqual(prompts.map((p) => p.kind), ['prompt', 'revision'], 'the revision was queued exactly once');
    assert.equal(await claude.queued(), 0);
  }));

  it('queues prompts offline, keeps them across a reload, sends each exactly once', { timeout: 240_000 }, scenario('offline', async () => {
    const { page, context, claude, host } = state;
    await claude.reset();
    const session = await host.api('POST', '/sessions', { title: 'Offline outbox' });
    await page.goto(`${host.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    // The app shell must be cached before the network goes away.
    const controlled = await page.evaluate(async () => {
      const ready = navigator.serviceWorker.ready.then(() => true);
      const late = new Promise((r) => setTimeout(() => r(false), 15_000));
      if (!(await Promise.race([ready, late]))) throw new Error('the service worker did not install');
      return navigator.serviceWorker.controller !== null;
    });
    if (!controlled) await page.reload();
    await page.locator('[data-testid=prompt-input]').waitFor();

    await context.setOffline(true);
    await page.locator('[data-testid=connection][data-state=offline]').waitFor();
    await page.locator('[data-testid=offline-hint]').waitFor();
    for (const text of ['First offline prompt', 'Second offline prompt (draft)', 'Third, to be cancelled']) {
      await page.fill('[data-testid=prompt-input]', text);
      await page.locator('[data-testid=send-prompt]').tap();
    }
    const queued = page.locator('[data-testid=queued-prompt]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=queued-prompt][data-state=queued]').length === 3);

    // Cancel the third; edit the second.
    await queued.nth(2).locator('[data-testid=cancel-queued]').tap();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=queued-prompt]').length === 2);
    await queued.nth(1).locator('[data-testid=edit-queued]').tap();
    await queued.nth(1).locator('textarea').fill('Second offline prompt');
    await queued.nth(1).getByRole('button', { name: 'Save' }).tap();
    await shot(page, '15-offline-queued');

    // Reload while offline: the service worker serves the app, IndexedDB the queue.
    await page.reload();
    await page.locator('[data-testid=connection][data-state=offline]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=queued-prompt][data-state=queued]').length === 2);
    assert.deepEqual(await queued.locator('p').first().allInnerTexts(), ['First offline prompt']);
    await shot(page, '16-offline-reloaded');

    await claude.push({ kind: 'text', text: 'First one noted.' }, { kind: 'text', text: 'Second one noted.' });
    await context.setOffline(false);
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=prompt-card][data-state=done]').length === 2,
      null,
      { timeout: 120_000 },
    );
    assert.equal(await queued.count(), 0, 'the outbox is empty');
    await shot(page, '17-online-sent');

    const { prompts } = await host.api('GET', `/sessions/${session.id}/prompts`);
    assert.deepEqual(
      prompts.map((p) => [p.text, p.state]),
      [
        ['First offline prompt', 'done'],
        ['Second offline prompt', 'done'],
      ],
      'each queued prompt ran exactly once, the cancelled one never',
    );
    assert.equal(await claude.queued(), 0);
  }));

  it('recovers without losing events when the host is killed and restarted mid-turn', { timeout: 240_000 }, scenario('restart', async () => {
    const { page, claude } = state;
    await claude.reset();
    const session = await state.host.api('POST', '/sessions', { title: 'Crash and resume' });
    await page.goto(`${state.host.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();

    const words = Array.from({ length: 80 }, (_, i) => `word${i + 1}`).join(' ');
    await claude.push({ kind: 'text', text: words, chunk_chars: 6, chunk_delay_ms: 120 });
    await page.fill('[data-testid=prompt-input]', 'Talk for a while');
    await page.locator('[data-testid=send-prompt]').tap();
    await page.locator('[data-testid=prompt-card][data-state=running] [data-testid=agent-reply]').waitFor({ timeout: 90_000 });
    await page.waitForFunction(() => (document.querySelector('[data-testid=agent-reply]')?.textContent ?? '').includes('word5'));

    await state.host.kill9();
    await page.locator('[data-testid=connection][data-state=reconnecting]').waitFor();
    await shot(page, '18-host-killed');
    // The reconnecting dot pulses, unless the user asked for less motion.
    const pulse = () => page.locator('[data-testid=connection] .dot').evaluate((el) => parseFloat(getComputedStyle(el).animationDuration));
    assert.ok((await pulse()) >= 1, 'the dot pulses');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    assert.ok((await pulse()) < 0.01, 'no pulse with prefers-reduced-motion');
    await page.emulateMedia({ reducedMotion: 'no-preference' });

    state.host = await startHost({ repo: state.repo, data: state.data, claudeUrl: claude.url, port: state.host.port });
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid=prompt-card][data-state=interrupted]').waitFor({ timeout: 30_000 });

    // Everything the host recorded reached the page, once: the last seq matches and the reply on
    // screen is exactly the one the host kept. (Its text chunks are gone from the log: the restart
    // compacted the finished prompt's chunks into its reply.)
    const { last_seq: lastSeq } = await state.host.api('GET', '/sessions');
    await page.locator(`[data-testid=connection][data-seq="${lastSeq}"]`).waitFor();
    const snap = await state.host.api('GET', `/sessions/${session.id}/snapshot`);
    const kept = snap.prompts[0].reply;
    assert.ok(kept.length > 0, 'some text was streamed before the kill');
    const shown = await page.locator('[data-testid=prompt-card] [data-testid=agent-reply]').innerText();
    assert.equal(shown.replace(/\s+/g, ' ').trim(), kept.replace(/\s+/g, ' ').trim());
    await shot(page, '19-recovered');

    // And the session goes on.
    await claude.push({ kind: 'text', text: 'Back after the restart.' });
    await page.fill('[data-testid=prompt-input]', 'Are you still there?');
    await page.locator('[data-testid=send-prompt]').tap();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=prompt-card][data-state=done]').length === 1,
      null,
      { timeout: 120_000 },
    );
    await shot(page, '20-after-restart');
  }));

  it('resyncs from the snapshot when the host compacted what the page missed, and keeps working', { timeout: 240_000 }, scenario('resync', async () => {
    const { page, context, claude } = state;
    await claude.reset();
    const session = await state.host.api('POST', '/sessions', { title: 'Missed while away' });
    await page.goto(`${state.host.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    await page.locator('[data-testid=prompt-input]').waitFor();

    // The phone goes away; a whole turn runs without it (another device sent the prompt).
    await context.setOffline(true);
    await page.locator('[data-testid=connection][data-state=offline]').waitFor();
    const seen = Number(await page.locator('[data-testid=connection]').getAttribute('data-seq'));
    const answer = 'Written while the phone was away: the config struct is now ServerConfig.';
    await claude.push({ kind: 'text', text: answer, chunk_chars: 8, chunk_delay_ms: 10 });
    const sent = await state.host.api('POST', `/sessions/${session.id}/prompts`, { text: 'Rename the config struct', client_id: `e2e-${Date.now()}` });
    for (let i = 0; ; i++) {
      const { prompts } = await state.host.api('GET', `/sessions/${session.id}/prompts`);
      if (prompts.find((p) => p.id === sent.id)?.state === 'done') break;
      assert.ok(i < 240, 'the turn finished on the host');
      await new Promise((r) => setTimeout(r, 500));
    }

    // kill -9 and restart: the host compacts the finished turn's text chunks at start-up, so it
    // can no longer replay what the page missed.
    await state.host.kill9();
    state.host = await startHost({ repo: state.repo, data: state.data, claudeUrl: claude.url, port: state.host.port });
    const refused = await fetch(`${state.host.base}/events?since=${seen}`, { headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(refused.status, 410, 'the host compacted the events after the page’s seq');
    assert.equal((await refused.json()).code, 'resync');

    // Back online: the socket is refused (4410), the page fetches the snapshot and streams on.
    await context.setOffline(false);
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 });
    const { last_seq: lastSeq } = await state.host.api('GET', '/sessions');
    await page.locator(`[data-testid=connection][data-seq="${lastSeq}"]`).waitFor();
    assert.ok(Number(await page.locator('[data-testid=connection]').getAttribute('data-resyncs')) >= 1, 'the socket resynced');
    const card = page.locator(`[data-testid=prompt-card][data-client-id="${sent.client_id}"]`);
    await card.locator('[data-testid=agent-reply]', { hasText: 'the config struct is now ServerConfig' }).waitFor();
    assert.equal((await card.getAttribute('data-state')), 'done');
    await shot(page, '30-resynced');

    // And it keeps working: a new turn streams into the same page.
    await claude.push({ kind: 'text', text: 'Still here after the resync.' });
    await page.fill('[data-testid=prompt-input]', 'Anything else?');
    await page.locator('[data-testid=send-prompt]').tap();
    await page.locator('[data-testid=prompt-card][data-state=done] [data-testid=agent-reply]', { hasText: 'Still here after the resync.' }).waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('[data-testid=prompt-card]').count(), 2);
    assert.equal(await claude.queued(), 0);
  }));

  it('shows a spent budget clearly, and sends a refused prompt once the limit is raised', { timeout: 180_000 }, scenario('budget', async () => {
    const { page, claude, host } = state;
    await claude.reset();
    await host.api('PUT', '/budget', { session_limit_usd: null, daily_limit_usd: 0.0001 });
    await page.goto(`${host.base}/app/#/`);
    await page.locator('[data-testid=budget-today][data-level=exceeded]').waitFor();
    await shot(page, '21-budget-exceeded');

    const session = await host.api('POST', '/sessions', { title: 'Over budget' });
    await page.goto(`${host.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    await page.locator('[data-testid=budget-notice]').waitFor();
    await page.fill('[data-testid=prompt-input]', 'One more thing');
    await page.locator('[data-testid=send-prompt]').tap();
    const refused = page.locator('[data-testid=queued-prompt][data-state=failed]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /spending limit is reached/);
    await shot(page, '22-prompt-refused');

    await page.getByTestId('budget-notice').getByRole('link', { name: 'Settings' }).tap();
    await page.fill('#b-daily', '5');
    await page.getByRole('button', { name: 'Save budget' }).tap();
    await page.locator('[data-testid=toast-info]', { hasText: 'Budget saved' }).waitFor();
    await shot(page, '23-settings');
    await assertPhoneErgonomics(page, 'settings');
    await page.getByRole('button', { name: 'Back' }).tap(); // to the session we came from
    await refused.waitFor();
    await claude.push({ kind: 'text', text: 'Within budget again.' });
    await refused.getByRole('button', { name: 'Retry' }).tap();
    await page.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 120_000 });
    const { prompts } = await host.api('GET', `/sessions/${session.id}/prompts`);
    assert.deepEqual(prompts.map((p) => p.text), ['One more thing']);
  }));

  it('pairs a phone by scanning a code’s QR, never holding the master key; a code works once; a revoked device is unpaired', { timeout: 240_000 }, scenario('qr', async () => {
    const { host } = state;
    const code = await host.pairingCode();
    assert.ok(code.links.length > 0, 'the host gives pairing links');
    for (const l of code.links) assert.ok(l.includes('#/pair?code=') && !l.includes(KEY), `${l} carries a code, never a key`);
    assert.match(code.qr_svg, /<svg/);
    assert.ok(!code.qr_svg.includes(KEY));

    // The camera films a QR code of the code link (never of the master key).
    const video = qrCameraFile(code.link);
    const browser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
    const context = await phoneContext(browser, { permissions: ['camera'] });
    const page = await context.newPage();
    page.on('pageerror', (e) => state.errors.push(e.message));
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.goto(`${host.base}/app/`);
    await page.getByRole('button', { name: 'Scan QR code' }).tap();
    await page.locator('[data-testid=qr-scanner] video').waitFor();
    await shot(page, '24-qr-scanner');
    await page.locator('#device-name').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid=pair-code]').innerText(), code.code);
    await nameAndPair(page, 'E2E QR phone');
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    // It works with its own key: the sessions the other scenarios made are listed.
    await page.locator('[data-testid=session-row]').first().waitFor();
    await shot(page, '25-paired-by-qr');

    // What the page keeps is its own device key, never the master key.
    assert.ok(!(await deviceStorage(page)).includes(KEY), 'the master key is nowhere in localStorage or IndexedDB');
    assert.ok(!page.url().includes(KEY), 'nor in the address');
    const creds = await page.evaluate(() => JSON.parse(localStorage.getItem('arcbench.host') ?? 'null'));
    assert.ok(creds?.key && creds.key !== KEY && creds.deviceId, 'a device key and the device id are kept');
    const { devices } = await host.api('GET', '/devices');
    assert.equal(devices.find((d) => d.id === creds.deviceId)?.name, 'E2E QR phone');
    const withDeviceKey = await fetch(`${host.base}/sessions`, { headers: { Authorization: `Bearer ${creds.key}` } });
    assert.equal(withDeviceKey.status, 200, 'the device key is accepted by the host');

    // The same code once more, on another phone: already used, nothing kept.
    const other = await phoneContext(state.browser);
    const tablet = await other.newPage();
    tablet.on('pageerror', (e) => state.errors.push(e.message));
    await tablet.goto(code.link);
    await tablet.locator('#device-name').waitFor();
    assert.ok(!tablet.url().includes('code='), 'the code is dropped from the address bar');
    await tablet.getByRole('button', { name: 'Pair this device' }).tap();
    await tablet.locator('[data-testid=pair-error]', { hasText: 'already used' }).waitFor();
    assert.equal(await tablet.evaluate(() => localStorage.getItem('arcbench.host')), null);
    await shot(tablet, '31-code-used');

    // Settings on the phone: the network, this device in the list, a code for another device.
    await page.locator('header a[href="#/settings"]').tap();
    await page.locator('[data-testid=mesh]').waitFor();
    assert.ok((await page.locator('[data-testid=mesh]').innerText()).trim().length > 0, 'the mesh status is shown');
    await page.locator(`[data-testid=device][data-device-id="${creds.deviceId}"] [data-testid=this-device]`).waitFor();
    await page.locator('[data-testid=pair-another]').tap();
    const qr = page.locator('[data-testid=pairing-code] img');
    await qr.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid=pairing-code] img')?.naturalWidth ?? 0) > 0);
    const shown = await page.locator('[data-testid=pairing-link]').innerText();
    assert.match(shown, /#\/pair\?code=/);
    assert.ok(!shown.includes(KEY) && !shown.includes(creds.key), 'the link on screen holds no key');
    assert.match(await page.locator('[data-testid=code-countdown]').innerText(), /^[45]:\d\d$/);
    await shot(page, '32-pair-another');
    await assertPhoneErgonomics(page, 'settings: pair another device');

    // The tablet redeems it; the phone's list shows it at once (device.paired).
    const second = new URLSearchParams(shown.slice(shown.indexOf('?') + 1)).get('code');
    await tablet.goto(`${host.base}/app/#/pair?code=${encodeURIComponent(second)}`);
    await nameAndPair(tablet, 'E2E tablet');
    await tablet.locator('[data-testid=connection][data-state=online]').waitFor();
    const row = page.locator('[data-testid=device]', { hasText: 'E2E tablet' });
    await row.waitFor();
    await shot(page, '33-devices', { fullPage: true });

    // Revoked from the phone: the tablet is unpaired at once, and says so.
    await row.locator('[data-testid=revoke-device]').tap();
    await page.locator('dialog[open] [data-testid=confirm]').tap();
    await row.waitFor({ state: 'detached' });
    await tablet.locator('[data-testid=unpaired]').waitFor();
    assert.equal(await tablet.evaluate(() => localStorage.getItem('arcbench.host')), null);
    await shot(tablet, '34-unpaired');
    await assertPhoneErgonomics(tablet, 'unpaired');
    await tablet.getByRole('button', { name: 'Pair again' }).tap();
    await tablet.locator('#pair-input').waitFor();

    // Revoked on the host with the master key: the phone is unpaired, and stops reconnecting.
    await host.api('DELETE', `/devices/${creds.deviceId}`);
    await page.locator('[data-testid=unpaired]').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('arcbench.host')), null);
    const opened = sockets.length;
    await page.waitForTimeout(3000);
    assert.equal(sockets.length, opened, 'no reconnect loop after the key was revoked');
    const refused = await fetch(`${host.base}/sessions`, { headers: { Authorization: `Bearer ${creds.key}` } });
    assert.equal(refused.status, 401, 'the revoked key is refused');
    await shot(page, '35-unpaired-by-host');
    await page.getByRole('button', { name: 'Pair again' }).tap();
    await page.locator('#pair-input').waitFor();

    await other.close();
    await context.close();
    assert.deepEqual(state.errors, [], 'no uncaught errors in the pages');
  }));
});
