// The desktop app in a real window: Xvfb, tauri-driver + WebKitWebDriver driving the app's
// WebKitGTK webview, the app's in-process host (demo mode: its local stand-in answers, real
// Aider and git do the rest), and at the same time a phone-sized Chromium paired with the same
// host. First run → session → prompt → approve a hunk → apply → the commit is in the repository
// (checked with git). The notification the finished turn sends reaches a notification server
// (tests/fake-notifications on the private bus), and clicking it opens its session. Then the tray under `trayer`, its menu opened, screenshotted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, ROOT, aiderPython, cleanup, fixtureRepo, launchBrowser, log, phoneContext, shot, tempDir } from './harness.mjs';
import { displayShot, NOTIFICATIONS, notificationServer, Procs, requireFiles, sleep, startBus, startDisplay, startDriver, TARGET, waitFor } from './tauri.mjs';

const APP = join(TARGET, 'debug', 'arcbench-desktop');
const procs = new Procs();

const git = (repo, ...args) => spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).stdout.trim();
const state = {};

describe('the desktop app in a real window', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    requireFiles([APP, NOTIFICATIONS]);
    state.display = await startDisplay(procs);
    state.repo = fixtureRepo();
    state.data = tempDir('desktop-data');
    const home = tempDir('desktop-home');
    // The transcriber on (its venv from ARCBENCH_TRANSCRIBER_PYTHON, as scripts/test-all.sh sets):
    // the microphone test sends what the window records to it.
    writeFileSync(join(state.data, 'config.toml'), 'port = 0\nno_tailscale = true\nstay_awake = false\n');
    // A private session bus (single instance is a D-Bus name on Linux); no accessibility bus on
    // it, so nothing outlives the test. No keychain (ARCBENCH_KEYCHAIN=none): the demo needs none.
    const address = await startBus(procs);
    state.notifications = notificationServer(procs, address);
    await state.notifications.ready;
    state.env = {
      ...process.env,
      DISPLAY: state.display,
      DBUS_SESSION_BUS_ADDRESS: address,
      NO_AT_BRIDGE: '1',
      ARCBENCH_KEYCHAIN: 'none',
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CONFIG_HOME: join(home, 'config'),
      ARCBENCH_DATA_DIR: state.data,
      ARCBENCH_PYTHON: aiderPython(),
      ARCBENCH_UI_DIR: join(ROOT, 'src-ui', 'dist'),
      WEBKIT_DISABLE_COMPOSITING_MODE: '1',
      // No sound card under Xvfb: WebKit's own fake capture device (a tone) stands in.
      ARCBENCH_MOCK_MICROPHONE: '1',
    };
    // A tray host first, so the app's icon has somewhere to show.
    procs.run('trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'pixel', '--width', '120', '--height', '32', '--transparent', 'false', '--tint', '0x303030'], state.env);
    state.wd = await startDriver(procs, state.env);
    await state.wd.start(APP);
  });

  after(async () => {
    // The stand-in exits on stdin's end as on SIGTERM (below).
    state.notifications?.stop();
    await state.wd?.quit();
    await sleep(500);
    procs.stopAll();
    await cleanup();
  });

  const windowShot = (name) => displayShot(state.display, `desktop-${name}`);

  it('first run with the demo, a prompt, a hunk approved and applied; a phone sees the same', { timeout: 6 * 60_000 }, async () => {
    const { wd, repo, data } = state;
    try {
      await wd.find('[data-testid=desktop-setup]', 60_000);
      windowShot('01-first-run');
      // A folder that is no repository: a clear message, nothing saved.
      await wd.type('[data-testid=repo-path]', tempDir('not-a-repo'));
      await wd.click('[data-testid=repo-add]');
      await wd.waitText('[data-testid=setup-error]', /not a git repository/);
      await wd.type('[data-testid=repo-path]', repo);
      await wd.click('[data-testid=repo-add]');
      await wd.waitText('[data-testid=desktop-setup]', new RegExp(repo.split('/').pop()));
      await wd.click('[data-testid=demo-toggle]');
      await wd.click('[data-testid=start-host]');

      // The dashboard, over the in-process host.
      await wd.click('[data-testid=new-session]', 90_000);
      await wd.type('#ns-title', 'Desktop demo');
      await wd.click('[data-testid=create-session]');
      await wd.find('[data-testid=prompt-input]');
      const url = await wd.execute('return location.href');
      const sessionId = /#\/s\/([^/]+)/.exec(url)?.[1];
      assert.ok(sessionId, `on a session page: ${url}`);
      windowShot('02-session');

      // The phone, paired with a single-use code from the same host.
      const holder = JSON.parse(readFileSync(join(data, 'host.lock'), 'utf8'));
      const origin = holder.urls.find((u) => u.startsWith('http://127.0.0.1'));
      const master = readFileSync(join(data, 'api-key'), 'utf8').trim();
      const code = await (await fetch(`${origin}/pairing-codes`, { method: 'POST', headers: { Authorization: `Bearer ${master}`, 'Content-Type': 'application/json' }, body: '{}' })).json();
      const browser = await launchBrowser();
      const phone = await (await phoneContext(browser)).newPage();
      await phone.goto(`${origin}/app/#/pair?code=${encodeURIComponent(code.code)}`);
      await phone.locator('#device-name').fill('e2e phone');
      await phone.getByRole('button', { name: 'Pair this device' }).click();
      await phone.getByRole('heading', { name: 'Sessions' }).waitFor();
      await phone.goto(`${origin}/app/#/s/${sessionId}`);
      await phone.locator('[data-testid=prompt-input]').waitFor();

      await wd.type('[data-testid=prompt-input]', 'Write a note about the desktop app');
      await wd.click('[data-testid=send-prompt]');
      await wd.find('[data-testid=prompt-card][data-state=done]', 120_000);
      // The phone saw the same turn through its own WebSocket.
      await phone.locator('[data-testid=prompt-card][data-state=done]').waitFor({ timeout: 30_000 });
      await shot(phone, 'desktop-phone-same-session');

      // The window is wide: conversation and changes side by side, no tabs.
      await wd.click('[data-testid=hunk] [data-testid=approve-hunk]', 30_000);
      await wd.find('[data-testid=hunk][data-state=approved]');
      // A tap can be swallowed while the page re-renders (Playwright's tap then waits without
      // end): bounded, checked, tapped again if the tab did not open.
      const changes = phone.locator('[data-testid=tab-changes]');
      for (let i = 0; i < 5 && (await changes.getAttribute('aria-selected')) !== 'true'; i++) {
        await changes.tap({ timeout: 10_000 }).catch((e) => log(`tap on Changes: ${e.message.split('\n')[0]}`));
      }
      assert.equal(await changes.getAttribute('aria-selected'), 'true', 'the phone shows its Changes tab');
      await phone.locator('[data-testid=hunk][data-state=approved]').waitFor({ timeout: 30_000 });
      windowShot('03-approved');
      await wd.click('[data-testid=apply]');
      await wd.type('dialog[open] input', 'desktop: the note');
      await wd.click('dialog[open] [data-testid=confirm]');
      await wd.find('[data-testid=commit]', 60_000);
      windowShot('04-applied');
      assert.equal(git(repo, 'log', '-1', '--format=%s', `session/${sessionId}`), 'desktop: the note');
      assert.equal(git(repo, 'status', '--porcelain'), '', 'the user checkout is untouched');

      // All of that went through the app's IPC (its host runs inside it), not HTTP.
      await wd.execute("location.hash = '#/settings'");
      await wd.find('[data-testid=desktop-transport]');
      assert.equal(await wd.attribute('[data-testid=desktop-transport]', 'data-transport'), 'ipc');

      // The finished turn was announced; a click on the notification opens its session, from
      // wherever the window was.
      const notice = await waitFor('the turn\'s notification', async () =>
        state.notifications.shown.find((n) => /Desktop demo/.test(n.body)),
      );
      assert.equal(notice.app_name, 'ArcBench');
      assert.match(notice.summary, /Changes wait for review|Turn finished/);
      assert.equal(notice.actions[0], 'default', 'a click on the notification is an action');
      await wd.execute("location.hash = '#/'");
      await wd.find('[data-testid=new-session]');
      await state.notifications.click(notice.id);
      await waitFor('the session opened by the click', async () =>
        (await wd.execute('return location.hash')).startsWith(`#/s/${sessionId}`),
      );
      await wd.find('[data-testid=prompt-input]');
      windowShot('05-opened-from-notification');
    } catch (e) {
      windowShot('FAILED');
      throw e;
    }
  });

  it('the microphone works in the window: held, recorded, sent to the host', { timeout: 120_000 }, async () => {
    const { wd } = state;
    try {
      await wd.find('[data-testid=mic][data-phase=idle]', 90_000);
      const holder = JSON.parse(readFileSync(join(state.data, 'host.lock'), 'utf8'));
      const origin = holder.urls.find((u) => u.startsWith('http://127.0.0.1'));
      const master = readFileSync(join(state.data, 'api-key'), 'utf8').trim();
      await waitFor('the transcriber', async () => {
        const s = await (await fetch(`${origin}/status`, { headers: { Authorization: `Bearer ${master}` } })).json();
        return s.transcriber.state === 'ready';
      }, 60_000);
      log('mic: pressing');
      // Held by the keyboard (Space on the focused button), one of the three ways to hold it.
      await wd.hold('[data-testid=mic]', ' ');
      log('mic: pressed');
      await wd.find('[data-testid=mic][data-phase=recording]', 10_000);
      log('mic: recording');
      // The level meter moves: audio really flows from the capture device through the worklet.
      const end = Date.now() + 5000;
      let level = 0;
      while (Date.now() < end && level <= 0) {
        level = Number(await wd.attribute('[data-testid=mic-level]', 'aria-valuenow').catch(() => 0));
        await sleep(100);
      }
      await sleep(1500);
      windowShot('05-recording');
      await wd.release(' ');
      assert.ok(level > 0, 'the level meter moved while recording');
      await wd.find('[data-testid=mic][data-phase=idle]', 60_000);
      // A tone is no speech: the host says so (or hears something). Either way the recording
      // reached the transcriber; what must not appear is a refusal of the microphone itself.
      const message = await wd.text('[data-testid=mic-message]', 2000).catch(() => '');
      const typed = await wd.execute('return document.querySelector("[data-testid=prompt-input]").value');
      windowShot('06-after-recording');
      assert.doesNotMatch(message, /permission|secure|HTTPS|not supported|unavailable/i, message);
      assert.ok(/speech/i.test(message) || typed.trim().length > 0, `a transcript or "no speech" (message: ${JSON.stringify(message)}, prompt: ${JSON.stringify(typed)})`);
    } catch (e) {
      windowShot('FAILED-mic');
      throw e;
    }
  });

  it('a second launch hands over to the running app and exits', { timeout: 60_000 }, async () => {
    const second = spawnSync(APP, [], { env: state.env, timeout: 30_000 });
    assert.equal(second.error, undefined, `the second instance did not exit: ${second.error}`);
    assert.equal(second.status, 0);
    // The first is still there, with its host.
    await state.wd.find('[data-testid=connection][data-state=online]', 10_000);
  });

  it('the tray shows the app and opens its menu', { timeout: 60_000 }, async () => {
    const { display } = state;
    const root = (name) => spawnSync('/usr/bin/import', ['-display', display, '-window', 'root', join(ARTIFACTS, name)]);
    const tray = spawnSync('xdotool', ['search', '--onlyvisible', '--class', 'trayer'], { env: state.env, encoding: 'utf8' }).stdout.trim().split('\n')[0];
    assert.ok(tray, 'trayer runs');
    const geometry = spawnSync('xdotool', ['getwindowgeometry', '--shell', tray], { env: state.env, encoding: 'utf8' }).stdout;
    const g = Object.fromEntries(geometry.trim().split('\n').map((l) => l.split('=')));
    const visible = () => spawnSync('xdotool', ['search', '--onlyvisible', '--name', ''], { env: state.env, encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    const before = new Set(visible());
    root('desktop-tray.png');
    // The app's icon is the only one in the tray, packed to its right end.
    spawnSync('xdotool', ['mousemove', String(Number(g.X) + Number(g.WIDTH) - 16), String(Number(g.Y) + Number(g.HEIGHT) / 2), 'click', '1'], { env: state.env });
    const menu = await waitFor('the tray menu', async () => visible().find((w) => !before.has(w)), 10_000);
    log(`tray menu window ${menu}`);
    assert.equal(root('desktop-tray-menu.png').status, 0, 'screenshot of the tray menu');
    log(`tray screenshots in ${ARTIFACTS}`);
  });
});
