// Time to interactive of the remote in headless Chromium (Debian's), unthrottled and with 4× CPU
// throttling, against the real host binary serving the built app at /app/.
//
//   cd src-ui && npm run build && node bench/tti.mjs [--runs 5] [--session-runs 5] [--json out.json]
//
// Needs target/debug/arcbench (cargo build --bin arcbench -p arcbench-cli) or ARCBENCH_BIN, and
// python3 (its sqlite3 module seeds the host's database).
// Each load is cold: a new browser context (empty HTTP cache, no service worker), already paired
// (the key is put in storage before the page loads). Printed as Markdown tables of medians (p50)
// with every run listed.
//
// Two cases, one host (demo mode) whose log holds 100,000 events:
// 1. UI start → session list: landing on the list of four sessions.
// 2. UI start → session interactive, before/after, measured in the same run on the same host:
//    - after: the app (dist/) as it starts: /status, /sessions, /usage and the session's
//      snapshot, then the event feed from the list's last_seq.
//    - before: the same app built with the start it had before snapshots (bench/replay/, built
//      here into /app/replay/): GET /sessions/{id}, then every event of the log from seq 0 via
//      GET /events?since=, 10,000 per page, folded with the store's own event folding.
//    The log is seeded straight into the host's SQLite (stopped): a finished prompt whose reply
//    is kept on it, and 100,000 events in all, mostly that prompt's agent.log lines, none of
//    them text chunks, so the start-up compaction keeps them all (GET /events?since=0 works).
//
// What is measured, from navigation start:
// - FCP: first contentful paint.
// - content: (1) the first [data-testid=session-row]; (2) the seeded reply on screen and the
//   event feed connected (the badge says online).
// - TTI: the later of `content` and the end of the last long task (>50 ms) before a 2 s window
//   with none — the main thread is free to answer a tap.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const UI = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ROOT = resolve(UI, '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const RUNS = Number(opt('runs', '5'));
const SESSION_RUNS = Number(opt('session-runs', String(RUNS)));
const JSON_OUT = opt('json', null);
const KEY = 'bench-key-0123456789abcdef';
const QUIET_MS = 2000;
const LOG_EVENTS = 100_000;
const MARKER = 'The seeded reply of the benchmark session';

const targetDir = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
const BIN = process.env.ARCBENCH_BIN || join(targetDir, 'debug', 'arcbench');
if (!existsSync(BIN)) throw new Error(`${BIN} missing: cargo build --bin arcbench -p arcbench-cli (or set ARCBENCH_BIN)`);
if (!existsSync(join(UI, 'dist', 'index.html'))) throw new Error('src-ui/dist missing: npm run build');

const CONDITIONS = [
  ['unthrottled', 1],
  ['4× CPU throttling', 4],
];

const temp = mkdtempSync(join(tmpdir(), 'arcbench-tti-'));
const uiDir = join(temp, 'ui');
const dataDir = join(temp, 'data');
let host;
try {
  cpSync(join(UI, 'dist'), uiDir, { recursive: true });
  await buildReplay(join(uiDir, 'replay'));
  const repo = fixtureRepo();

  // A host with four sessions; then, stopped, its log is seeded to 100,000 events.
  host = await startHost(repo);
  for (const title of ['Add rate limiting', 'Fix the flaky test', 'Rename the config struct']) {
    await call(host.base, 'POST', '/sessions', { title });
  }
  const seeded = await call(host.base, 'POST', '/sessions', { title: 'A long session (100,000 events)' });
  await stopHost(host);
  host = null;
  seedLog(seeded);
  host = await startHost(repo);
  const check = await sanityCheck(host.base, seeded.id);
  console.error(`[tti] host ready: ${check}`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const listProbe = { selector: '[data-testid=session-row]' };
    const sessionProbe = { selector: '[data-testid=agent-reply]', text: MARKER, online: true };
    const list = {};
    for (const [label, rate] of CONDITIONS) {
      await measure(browser, `${host.base}/app/#/`, rate, listProbe); // warm-up (OS disk cache, the host)
      list[label] = [];
      for (let i = 0; i < RUNS; i++) list[label].push(await measure(browser, `${host.base}/app/#/`, rate, listProbe));
    }
    const urls = {
      before: `${host.base}/app/replay/bench/replay/index.html#/s/${seeded.id}`,
      after: `${host.base}/app/#/s/${seeded.id}`,
    };
    const session = {};
    for (const [label, rate] of CONDITIONS) {
      session[label] = { before: [], after: [] };
      for (const which of ['before', 'after']) await measure(browser, urls[which], rate, sessionProbe); // warm-up
      // Interleaved, so load from other processes on the machine falls on both alike.
      for (let i = 0; i < SESSION_RUNS; i++) {
        for (const which of ['before', 'after']) {
          const m = await measure(browser, urls[which], rate, sessionProbe);
          console.error(`[tti] session ${label} ${which} #${i + 1}: TTI ${Math.round(m.tti)} ms`);
          session[label][which].push(m);
        }
      }
    }
    report(list, session, check);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ list, session, host: check }, null, 2) + '\n');
  } finally {
    await browser.close();
  }
} finally {
  if (host) await stopHost(host);
  rmSync(temp, { recursive: true, force: true });
}

/** The app with its old start (bench/replay/), built with base /app/replay/. */
async function buildReplay(outDir) {
  await build({
    root: UI,
    configFile: false,
    base: '/app/replay/',
    logLevel: 'warn',
    plugins: [svelte()],
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', rollupOptions: { input: join(UI, 'bench', 'replay', 'index.html') } },
  });
}

async function measure(browser, url, rate, probe) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    serviceWorkers: 'block', // a cold first visit: nothing cached yet
  });
  await context.addInitScript(
    ({ origin, key, probe }) => {
      localStorage.setItem('arcbench.host', JSON.stringify({ origin, key }));
      const marks = (window.__tti = { longTasks: [], content: null });
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) marks.longTasks.push([e.startTime, e.startTime + e.duration]);
      }).observe({ type: 'longtask', buffered: true });
      const seen = () => {
        if (marks.content !== null) return;
        const el = document.querySelector(probe.selector);
        if (!el || (probe.text && !el.textContent.includes(probe.text))) return;
        if (probe.online && !document.querySelector('[data-testid=connection][data-state=online]')) return;
        marks.content = performance.now();
      };
      new MutationObserver(seen).observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
    },
    { origin: new URL(url).origin, key: KEY, probe },
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__tti.content !== null, null, { timeout: 300_000 });
  // Wait for a quiet main thread: no long task for QUIET_MS.
  await page.waitForFunction(
    (quiet) => {
      const t = window.__tti.longTasks;
      const lastEnd = t.length ? Math.max(...t.map((x) => x[1])) : 0;
      return performance.now() - Math.max(lastEnd, window.__tti.content) > quiet;
    },
    QUIET_MS,
    { timeout: 300_000, polling: 100 },
  );
  const m = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
    const t = window.__tti;
    const lastLong = t.longTasks.length ? Math.max(...t.longTasks.map((x) => x[1])) : 0;
    const nav = performance.getEntriesByType('navigation')[0];
    const requests = performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'fetch').length;
    return { fcp, content: t.content, tti: Math.max(t.content, lastLong, fcp ?? 0), longTasks: t.longTasks.length, domContentLoaded: nav?.domContentLoadedEventEnd ?? null, requests };
  });
  await context.close();
  return m;
}

function p50(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function report(list, session, check) {
  const ms = (v) => (v === null ? '—' : `${Math.round(v)} ms`);
  let size;
  try {
    const r = JSON.parse(readFileSync(join(UI, 'dist', 'size-report.json'), 'utf8'));
    size = `${(r.entry_js_gzip_bytes / 1024).toFixed(1)} KB gzipped entry JS`;
  } catch {
    size = 'entry size unknown';
  }
  const lines = [
    `### Remote UI: start → session list (headless Chromium, 390×844, cold load, ${RUNS} runs; ${size})`,
    '',
    '| condition | FCP p50 | content p50 | TTI p50 | TTI runs | TTI ratio vs unthrottled |',
    '|---|---:|---:|---:|---|---:|',
  ];
  // The baseline is the first condition (unthrottled), measured in this same run.
  const base = p50(Object.values(list)[0].map((r) => r.tti));
  for (const [label, runs] of Object.entries(list)) {
    const tti = p50(runs.map((r) => r.tti));
    lines.push(
      `| ${label} | ${ms(p50(runs.map((r) => r.fcp ?? 0)))} | ${ms(p50(runs.map((r) => r.content)))} | ${ms(tti)} | ${runs.map((r) => Math.round(r.tti)).join(', ')} | ${(tti / base).toFixed(2)}× |`,
    );
  }
  lines.push(
    '',
    `### Remote UI: start → session interactive with ${LOG_EVENTS.toLocaleString('en')} events in the log (${SESSION_RUNS} runs each, interleaved)`,
    '',
    '| condition | start | FCP p50 | content p50 | TTI p50 | TTI runs | API requests | TTI ratio (after / before) |',
    '|---|---|---:|---:|---:|---|---:|---:|',
  );
  for (const [label, { before, after }] of Object.entries(session)) {
    const ttiBefore = p50(before.map((r) => r.tti));
    for (const [which, runs] of [
      ['before: GET /events from seq 0, folded', before],
      ['after: snapshot + feed from last_seq', after],
    ]) {
      const tti = p50(runs.map((r) => r.tti));
      lines.push(
        `| ${label} | ${which} | ${ms(p50(runs.map((r) => r.fcp ?? 0)))} | ${ms(p50(runs.map((r) => r.content)))} | ${ms(tti)} | ${runs.map((r) => Math.round(r.tti)).join(', ')} | ${p50(runs.map((r) => r.requests))} | ${(tti / ttiBefore).toFixed(3)}× |`,
      );
    }
  }
  lines.push('', `Host: ${check}. Content = the seeded reply on screen and the event feed online.`);
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

function fixtureRepo() {
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
  return repo;
}

async function startHost(repo) {
  // Demo mode: a local stand-in answers, so no API key is needed (no prompt runs here anyway).
  const child = spawn(BIN, ['serve', '--demo', '--no-transcriber', '--port', '0', '--repo', repo, '--data-dir', dataDir, '--ui-dir', uiDir], {
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

function stopHost(h) {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGTERM');
  return exited;
}

/**
 * Writes a finished prompt (its reply kept on the prompt row) and its events straight into the
 * stopped host's SQLite, in the JSON shapes the host writes, until the log holds LOG_EVENTS.
 */
function seedLog(session) {
  const db = join(dataDir, 'arcbench.sqlite3');
  const sql = (script, input) => {
    const r = spawnSync('python3', ['-c', script, db], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`seeding ${db}: ${r.stderr}`);
    return r.stdout;
  };
  const [have, top] = sql('import sqlite3,sys; print(*sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events").fetchone())').trim().split(' ').map(Number);
  const pid = 'p-benchlog';
  const t0 = Date.parse('2026-11-20T09:00:00.000Z');
  let seq = top;
  const rows = [];
  const ts = () => new Date(t0 + seq * 7).toISOString();
  const event = (type, fields) => {
    seq += 1;
    rows.push({ table: 'events', seq, ts: ts(), type, session_id: session.id, body: JSON.stringify({ type, ...fields }) });
  };
  const zero = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost_usd: 0.0 };
  const spent = { input_tokens: 48_000, output_tokens: 3_200, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost_usd: 0.192 };
  const prompt = { id: pid, client_id: 'bench-client-1', text: 'Rename the config struct to ServerConfig everywhere and update the docs', state: 'queued', usage: zero, created_at: ts(), kind: 'prompt', files: [], reply: '' };
  const reply = `${MARKER}: I renamed \`Config\` to \`ServerConfig\` in \`src/config.rs\` and every use.\n\n\`\`\`rust\npub struct ServerConfig {\n    pub port: u16,\n    pub data_dir: PathBuf,\n}\n\`\`\`\n\nThe docs mention the new name too. Run \`cargo test\` to check.\n`;
  event('prompt.queued', { prompt });
  event('prompt.started', { prompt_id: pid });
  event('session.updated', { session: { ...session, state: 'running' } });
  const lines = ['Repo-map can\'t include src/generated.rs', 'Applied edit to src/config.rs', 'Tokens: 2.4k sent, 180 received. Cost: $0.0099 message, $0.0099 session.', 'Added src/main.rs to the chat.'];
  const logs = LOG_EVENTS - have - 7;
  for (let i = 0; i < logs; i++) event('agent.log', { prompt_id: pid, level: i % 97 === 0 ? 'warning' : 'info', line: `${lines[i % lines.length]} (${i + 1})` });
  event('usage.updated', { prompt_id: pid, model: 'claude-sonnet-4-5', usage: spent, session_total: spent, today_total: spent });
  event('diff.updated', { files: 0, hunks: 0, approved: 0 });
  event('prompt.finished', { prompt_id: pid, state: 'done', usage: spent });
  event('session.updated', { session: { ...session, state: 'idle' } });
  rows.push({ table: 'prompts', id: pid, session_id: session.id, client_id: prompt.client_id, text: prompt.text, state: 'done', reason: null, created_at: prompt.created_at, started_at: prompt.created_at, finished_at: ts(), kind: 'prompt', files: '[]', reply });
  rows.push({ table: 'usage', session_id: session.id, prompt_id: pid, model: 'claude-sonnet-4-5', ...spent, day: ts().slice(0, 10), at: ts() });
  sql(
    [
      'import json, sqlite3, sys',
      'db = sqlite3.connect(sys.argv[1])',
      'with db:',
      '    for line in sys.stdin:',
      '        r = json.loads(line); t = r.pop("table"); cols = list(r)',
      '        db.execute(f"INSERT INTO {t} ({\',\'.join(cols)}) VALUES ({\',\'.join(\'?\' * len(cols))})", [r[c] for c in cols])',
    ].join('\n'),
    rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
}

/** The seeded host as the two starts see it; fails loudly if the seeding did not take. */
async function sanityCheck(base, id) {
  const { last_seq } = await call(base, 'GET', '/sessions');
  const snap = await call(base, 'GET', `/sessions/${id}/snapshot`);
  if (!snap.prompts[0]?.reply?.includes(MARKER)) throw new Error('the seeded reply is not in the snapshot');
  const first = await call(base, 'GET', '/events?since=0'); // 410 if compaction had removed events
  if (first.events.length !== 10_000) throw new Error(`GET /events?since=0 answered ${first.events.length} events`);
  if (last_seq < LOG_EVENTS) throw new Error(`the log holds ${last_seq} events, not ${LOG_EVENTS}`);
  return `${last_seq.toLocaleString('en')} events in the log (last_seq ${last_seq}), none compacted; the session's snapshot: ${snap.prompts.length} prompt, last_seq ${snap.last_seq}`;
}
