// End-to-end: a turn as it is being written, on a phone (390×844). The real host and Aider, the
// Messages API stand-in streaming a slow five-block SEARCH/REPLACE reply: the conversation shows
// each block as a proposed card while the reply still streams (never the raw markers), the
// Changes tab shows the file as "being written", and after the turn the same hunks are there,
// reviewable. Screenshots go to target/e2e-artifacts/live-*.png.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, buildAll, cleanup, fixtureRepo, launchBrowser, log, phoneContext, shot, startFakeClaude, startHost, tempDir } from './harness.mjs';

const edit = (path, search, replace) => `${path}\n\`\`\`rust\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

/** Five blocks on lines 8 apart (their hunks never merge), each with a sentence before it. */
const FIVE = Array.from({ length: 5 }, (_, i) => {
  const line = 3 + 8 * i;
  return (
    `Step ${i + 1}: rename the function on line ${line}; its neighbours stay as they are, so each change is a hunk of its own.\n\n` +
    edit('src/lib.rs', `fn line ${line}\n`, `fn renamed_${i + 1}()\n`)
  );
}).join('');

const state = {};

describe('a turn as it is written, on a phone', { timeout: 6 * 60_000 }, () => {
  before(async () => {
    buildAll();
    state.claude = await startFakeClaude();
    state.host = await startHost({ repo: fixtureRepo(), data: tempDir('data'), claudeUrl: state.claude.url });
    log(`host at ${state.host.base}; screenshots in ${ARTIFACTS}`);
    state.browser = await launchBrowser();
    state.page = await (await phoneContext(state.browser)).newPage();
    state.errors = [];
    state.page.on('pageerror', (e) => state.errors.push(e.message));
  });

  after(async () => {
    await cleanup();
  });

  it('shows proposed cards while the reply streams, the file being written, then reviewable hunks', { timeout: 240_000 }, async () => {
    const { page, claude, host } = state;
    try {
      await page.goto((await host.pairingCode()).link);
      await page.locator('#device-name').waitFor();
      await page.getByRole('button', { name: 'Pair this device' }).tap();
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      const session = await host.api('POST', '/sessions', { title: 'Live edits' });
      await page.goto(`${host.base}/app/#/s/${session.id}`);
      await page.locator('[data-testid=connection][data-state=online]').waitFor();

      // Watches the page every 50 ms from before the prompt is sent to after it finished.
      await page.evaluate(() => {
        const seen = { samples: 0, markers: [], cardsWhileRunning: 0, writingWhileRunning: 0, estimatedWhileRunning: 0, sessionEstimatedWhileRunning: 0, finalWhileRunning: 0 };
        window.__live = seen;
        window.__liveTimer = setInterval(() => {
          seen.samples++;
          const reply = document.querySelector('[data-testid=prompt-card] [data-testid=agent-reply]');
          // What is on screen, and the reply's text even where it is hidden.
          for (const text of [document.body.innerText, reply?.textContent ?? '']) {
            const m = /<{7} SEARCH|>{7} REPLACE|^={7}\s*$/m.exec(text);
            if (m) seen.markers.push(text.slice(Math.max(0, m.index - 60), m.index + 30));
          }
          const running = document.querySelector('[data-testid=prompt-card][data-state=running]');
          if (!running) return;
          if (running.querySelector('[data-testid=proposed-card][data-status=proposed]')) seen.cardsWhileRunning++;
          if (running.querySelector('[data-testid=proposed-card][data-status=writing]')) seen.writingWhileRunning++;
          if (running.querySelector('[data-testid=prompt-usage][data-estimated=true]')) seen.estimatedWhileRunning++;
          if (running.querySelector('[data-testid=proposed-card][data-final=true]')) seen.finalWhileRunning++;
          if (document.querySelector('[data-testid=session-usage][data-estimated=true]')) seen.sessionEstimatedWhileRunning++;
        }, 50);
      });

      await claude.push(
        { kind: 'text', text: 'I need src/lib.rs.' },
        {
          kind: 'text',
          text: `${FIVE}All five renamed.`,
          chunk_chars: 16,
          chunk_delay_ms: 60,
          usage: { input_tokens: 1500, output_tokens: 400, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      );
      await page.fill('[data-testid=prompt-input]', 'Rename the functions on lines 3, 11, 19, 27 and 35');
      await page.locator('[data-testid=send-prompt]').tap();

      // A proposed card while the prompt still runs (the reply streams for about four seconds).
      const running = page.locator('[data-testid=prompt-card][data-state=running]');
      await running.locator('[data-testid=proposed-card][data-status=proposed][data-path="src/lib.rs"]').first().waitFor({ timeout: 90_000 });
      await shot(page, 'live-01-cards-while-streaming');

      // The Changes tab, still while it runs: the file as the blocks so far leave it.
      await page.locator('[data-testid=tab-changes]').tap();
      const written = page.locator('[data-testid=being-written][data-path="src/lib.rs"]');
      await written.waitFor();
      assert.equal(await running.count(), 1, 'the file is being written while the prompt runs');
      const controls = '[data-testid=approve-hunk], [data-testid=reject-hunk], [data-testid=comment-hunk], [data-testid=approve-file]';
      assert.equal(await written.locator(controls).count(), 0, 'nothing to review while it is written');
      await shot(page, 'live-02-being-written');
      // The first hunk's element: the real diff must not replace it (no jump), only add controls.
      const firstId = await written.locator('[data-testid=hunk]').first().getAttribute('data-hunk-id');
      await written.locator(`[data-hunk-id="${firstId}"]`).evaluate((el) => (el.__e2eMark = true));

      await page.locator('#tab-chat').tap();
      await page.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 90_000 });
      const seen = await page.evaluate(() => {
        clearInterval(window.__liveTimer);
        return window.__live;
      });
      log(`sampled ${seen.samples} times: ${JSON.stringify({ ...seen, markers: seen.markers.length })}`);
      assert.deepEqual(seen.markers, [], 'no raw SEARCH/REPLACE markers on the page while streaming');
      assert.ok(seen.cardsWhileRunning > 0, 'proposed cards showed while the prompt ran');
      assert.ok(seen.writingWhileRunning > 0, 'a block being written showed as its placeholder');
      assert.ok(seen.estimatedWhileRunning > 0, 'the usage showed as an estimate while the prompt ran');
      assert.ok(seen.sessionEstimatedWhileRunning > 0, "the session's total moved as an estimate while the prompt ran");
      assert.equal(seen.finalWhileRunning, 0, 'no card said it was written while the prompt ran');

      // After the turn: five cards of what the agent wrote, the prose between them, the exact usage.
      const card = page.locator('[data-testid=prompt-card][data-state=done]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=prompt-card][data-state=done] [data-testid=proposed-card][data-status=proposed]').length === 5);
      assert.equal(await card.locator('[data-testid=proposed-card][data-status=writing]').count(), 0);
      assert.equal(await card.locator('[data-testid=proposed-card][data-status=proposed][data-final=true]', { hasText: 'Written' }).count(), 5);
      await card.locator('[data-testid=proposed-card]', { hasText: 'fn renamed_5()' }).waitFor();
      await card.locator('[data-testid=agent-reply]', { hasText: 'Step 3: rename the function on line 19' }).waitFor();
      await card.locator('[data-testid=agent-reply]', { hasText: 'All five renamed.' }).waitFor();
      assert.equal(await card.locator('[data-testid=prompt-usage]').getAttribute('data-estimated'), 'false');
      assert.equal(await page.locator('[data-testid=session-usage]').getAttribute('data-estimated'), 'false');
      assert.doesNotMatch(await page.locator('body').innerText(), /<{7} SEARCH|>{7} REPLACE/);
      await shot(page, 'live-03-done', { fullPage: true });

      // The Changes tab: the real diff, the same hunks in the same elements, now reviewable.
      await page.locator('[data-testid=tab-changes]').tap();
      const file = page.locator('[data-testid=file-diff][data-path="src/lib.rs"]');
      await file.waitFor();
      assert.equal(await page.locator('[data-testid=being-written]').count(), 0);
      assert.equal(await file.locator('[data-testid=hunk]').count(), 5);
      assert.ok(await file.locator(`[data-hunk-id="${firstId}"]`).evaluate((el) => el.__e2eMark === true), 'the hunk kept its element');
      const approve = file.locator(`[data-hunk-id="${firstId}"] [data-testid=approve-hunk]`);
      await page.waitForFunction((id) => !document.querySelector(`[data-hunk-id="${id}"] [data-testid=approve-hunk]`)?.disabled, firstId);
      await approve.tap();
      await file.locator(`[data-hunk-id="${firstId}"][data-state=approved]`).waitFor();
      await shot(page, 'live-04-reviewable');
      assert.equal(await claude.queued(), 0, 'every scripted reply was used');
      assert.deepEqual(state.errors, [], 'no uncaught errors in the page');
    } catch (e) {
      await shot(page, 'live-FAILED').catch(() => undefined);
      throw e;
    }
  });
});
