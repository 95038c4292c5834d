// What the Tauri apps' end-to-end tests share: an Xvfb display, a private session bus,
// tauri-driver (+ WebKitWebDriver) and the processes to stop afterwards, screenshots of the
// display. The desktop app's test and the phone app's preview test both drive a real WebKitGTK
// window through them.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ARTIFACTS, ROOT, log } from './harness.mjs';
import { WebDriver } from './webdriver.mjs';

export const TARGET = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
export const DRIVER = process.env.TAURI_DRIVER || join(process.env.CARGO_HOME || join(process.env.HOME, '.cargo'), 'bin', 'tauri-driver');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () =>
  new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });

export async function waitFor(what, fn, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeout} ms`);
    await sleep(200);
  }
}

/** Processes started for a test, each in its own group, stopped by `stopAll`. */
export class Procs {
  /** @type {import('node:child_process').ChildProcess[]} */
  list = [];

  run(cmd, args, env) {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', process.env.ARCBENCH_E2E_VERBOSE ? 'inherit' : 'ignore'], detached: true });
    this.list.push(p);
    return p;
  }

  add(p) {
    this.list.push(p);
    return p;
  }

  stopAll() {
    for (const p of this.list.reverse()) {
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    this.list = [];
  }
}

/** Fails early, naming what is missing (scripts/test-all.sh installs and builds all of it). */
export function requireFiles(paths) {
  for (const p of [DRIVER, '/usr/bin/Xvfb', '/usr/bin/WebKitWebDriver', ...paths]) {
    if (!existsSync(p)) throw new Error(`${p} is missing (scripts/test-all.sh installs and builds it)`);
  }
}

/** An Xvfb display of its own (`:90`-`:98` by pid, so two test files never share one). */
export async function startDisplay(procs, offset = 0) {
  const display = `:${90 + ((process.pid + offset) % 9)}`;
  procs.run('/usr/bin/Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
  await waitFor('Xvfb', async () => spawnSync('xdpyinfo', ['-display', display]).status === 0);
  return display;
}

/** A private session bus (nothing outlives the test); its address. */
export async function startBus(procs) {
  const bus = procs.add(spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true }));
  return new Promise((r) => bus.stdout.once('data', (d) => r(String(d).trim())));
}

/** tauri-driver on free ports in `env` (the display, the bus); a WebDriver client for it. */
export async function startDriver(procs, env) {
  const port = await freePort();
  procs.run(DRIVER, ['--port', String(port), '--native-port', String(await freePort())], env);
  await waitFor('tauri-driver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok);
  return new WebDriver(`http://127.0.0.1:${port}`);
}

/**
 * The X display's picture (the window fills it), not WebDriver's screenshot: WebKitGTK's
 * screenshot command waits for a rendering update and, in CI, sometimes never returned.
 */
export function displayShot(display, name) {
  const r = spawnSync('/usr/bin/import', ['-display', display, '-window', 'root', join(ARTIFACTS, `${name}.png`)], { timeout: 20_000 });
  if (r.status !== 0) log(`screenshot ${name} failed: ${r.stderr}`);
}

/** The stand-in notification server's binary (tests/fake-notifications). */
export const NOTIFICATIONS = join(TARGET, 'debug', 'fake-notifications');

/**
 * The stand-in notification server on the bus at `address`: what it was asked to show
 * (`shown JSON` lines), and the user's click (`invoke ID default` on its stdin).
 */
export function notificationServer(procs, address) {
  const p = spawn(NOTIFICATIONS, ['--address', address], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  procs.add(p);
  const shown = [];
  const replies = [];
  let buffered = '';
  let ready;
  const readyP = new Promise((r) => (ready = r));
  p.stdout.on('data', (d) => {
    buffered += String(d);
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === 'ready') ready();
      else if (line.startsWith('shown ')) shown.push(JSON.parse(line.slice(6)));
      else replies.push(line);
    }
  });
  return {
    ready: readyP,
    shown,
    // The stand-in exits on stdin's end as on SIGTERM.
    stop: () => p.stdin.end(),
    async click(id) {
      const before = replies.length;
      p.stdin.write(`invoke ${id} default\n`);
      const reply = await waitFor('the click', async () => replies[before], 10_000);
      if (reply !== `invoked ${id}`) throw new Error(`the notification server answered ${reply}`);
    },
  };
}
