// Time to interactive of the remote in headless Chromium (Debian's), unthrottled and with 4× CPU
// throttling, against the real host binary serving the built app at /app/.
//
//   cd src-ui && npm run build && node bench/tti.mjs [--runs 5] [--json out.json]
//
// Needs target/debug/arcbench (cargo build --bin arcbench -p arcbench-cli) or ARCBENCH_BIN.
// Each load is cold: a new browser context (empty HTTP cache, no service worker), already paired
// (the key is put in storage before the page loads), landing on the session list of a host with
// a few sessions. Printed as a Markdown table of medians (p50) with every run listed.
//
// What is measured, from navigation start:
// - FCP: first contentful paint.
// - content: the session list shows the host's sessions (first [data-testid=session-row]).
// - TTI: the later of `content` and the end of the last long task (>50 ms) before a 2 s window
//   with none — the main thread is free to answer a tap.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ROOT = resolve(UI, '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const RUNS = Number(opt('runs', '5'));
const JSON_OUT = opt('json', null);
const KEY = 'bench-key-0123456789abcdef';
const QUIET_MS = 2000;

const targetDir = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
const BIN = process.env.ARCBENCH_BIN || join(targetDir, 'debug', 'arcbench');
if (!existsSync(BIN)) throw new Error(`${BIN} missing: cargo build --bin arcbench -p arcbench-cli (or set ARCBENCH_BIN)`);
if (!existsSync(join(UI, 'dist', 'index.html'))) throw new Error('src-ui/dist missing: npm run build');

const temp = mkdtempSync(join(tmpdir(), 'arcbench-tti-'));
let host;
try {
  host = await startHost();
  for (const title of ['Add rate limiting', 'Fix the flaky test', 'Rename the config struct']) {
    await call(host.base, 'POST', '/sessions', { title });
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const results = {};
    for (const [label, rate] of [
      ['unthrottled', 1],
      ['4× CPU throttling', 4],
    ]) {
      await measure(browser, host.base, rate); // warm-up (disk cache of the OS, JIT of the host)
      results[label] = [];
      for (let i = 0; i < RUNS; i++) results[label].push(await measure(browser, host.base, rate));
    }
    report(results);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2) + '\n');
  } finally {
    await browser.close();
  }
} finally {
  host?.child.kill('SIGTERM');
  rmSync(temp, { recursive: true, force: true });
}

async function measure(browser, base, rate) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    serviceWorkers: 'block', // a cold first visit: nothing cached yet
  });
  await context.addInitScript(
    ({ origin, key }) => {
      localStorage.setItem('arcbench.host', JSON.stringify({ origin, key }));
      const marks = (window.__tti = { longTasks: [], content: null });
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) marks.longTasks.push([e.startTime, e.startTime + e.duration]);
      }).observe({ type: 'longtask', buffered: true });
      const seen = () => {
        if (marks.content === null && document.querySelector('[data-testid=session-row]')) marks.content = performance.now();
      };
      new MutationObserver(seen).observe(document, { childList: true, subtree: true });
    },
    { origin: base, key: KEY },
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await page.goto(`${base}/app/#/`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__tti.content !== null, null, { timeout: 60_000 });
  // Wait for a quiet main thread: no long task for QUIET_MS.
  await page.waitForFunction(
    (quiet) => {
      const t = window.__tti.longTasks;
      const lastEnd = t.length ? Math.max(...t.map((x) => x[1])) : 0;
      return performance.now() - Math.max(lastEnd, window.__tti.content) > quiet;
    },
    QUIET_MS,
    { timeout: 60_000, polling: 100 },
  );
  const m = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
    const t = window.__tti;
    const lastLong = t.longTasks.length ? Math.max(...t.longTasks.map((x) => x[1])) : 0;
    const nav = performance.getEntriesByType('navigation')[0];
    return { fcp, content: t.content, tti: Math.max(t.content, lastLong, fcp ?? 0), longTasks: t.longTasks.length, domContentLoaded: nav?.domContentLoadedEventEnd ?? null };
  });
  await context.close();
  return m;
}

function p50(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function report(results) {
  const ms = (v) => (v === null ? '—' : `${Math.round(v)} ms`);
  let size;
  try {
    const r = JSON.parse(readFileSync(join(UI, 'dist', 'size-report.json'), 'utf8'));
    size = `${(r.entry_js_gzip_bytes / 1024).toFixed(1)} KB gzipped entry JS`;
  } catch {
    size = 'entry size unknown';
  }
  const lines = [
    `### Remote UI time to interactive (headless Chromium, 390×844, cold load, ${RUNS} runs; ${size})`,
    '',
    '| condition | FCP p50 | content p50 | TTI p50 | TTI runs | TTI ratio vs unthrottled |',
    '|---|---:|---:|---:|---|---:|',
  ];
  // The baseline is the first condition (unthrottled), measured in this same run.
  const base = p50(Object.values(results)[0].map((r) => r.tti));
  for (const [label, runs] of Object.entries(results)) {
    const tti = p50(runs.map((r) => r.tti));
    lines.push(
      `| ${label} | ${ms(p50(runs.map((r) => r.fcp ?? 0)))} | ${ms(p50(runs.map((r) => r.content)))} | ${ms(tti)} | ${runs.map((r) => Math.round(r.tti)).join(', ')} | ${(tti / base).toFixed(2)}× |`,
    );
  }
  console.log(lines.join('\n'));
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function startHost() {
  const repo = join(temp, 'repo');
  mkdirSync(repo);
  const git = (...a) => {
    const r = spawnSync('git', a, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.invalid', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.invalid' } });
    if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), '# bench\n');
  git('add', '.');
  git('commit', '-q', '-m', 'bench');
  // Demo mode: a local stand-in answers, so no API key is needed (no prompt runs here anyway).
  const child = spawn(BIN, ['serve', '--demo', '--port', '0', '--repo', repo, '--data-dir', join(temp, 'data'), '--ui-dir', join(UI, 'dist')], {
    env: { ...process.env, ARCBENCH_API_KEY: KEY, ARCBENCH_LOG: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((ok, fail) => {
    child.on('exit', (c) => fail(new Error(`arcbench exited ${c}`)));
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /^listening on (http:\/\/\S+)/.exec(l);
      if (m) ok(m[1]);
    });
  });
  return { child, base };
}
