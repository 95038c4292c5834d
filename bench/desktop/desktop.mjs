// The desktop app's costs beside `arcbench serve` in the same run (release builds of both):
//   - launch → window shown (the app's "ArcBench" window mapped on an Xvfb display), against
//     launch → listening for `arcbench serve` (its "listening on" line);
//   - idle memory (RSS of the whole process tree: the app's WebKit processes count) and CPU
//     (share of one core over 20 s) after 60 s of idling, both with a demo host on a fixture
//     repository;
//   - release binary sizes.
// Usage: node bench/desktop/desktop.mjs [--runs N] [--idle S]  (bench/run.sh desktop builds first)

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const target = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
const APP = join(target, 'release', 'arcbench-desktop');
const SERVE = join(target, 'release', 'arcbench');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const IDLE_S = arg('--idle', 60);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const temps = [];
const temp = (p) => {
  const d = mkdtempSync(join(tmpdir(), `arcbench-bench-${p}-`));
  temps.push(d);
  return d;
};

function fixtureRepo() {
  const dir = temp('repo');
  const git = (...a) => spawnSync('git', ['-C', dir, ...a], { env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.invalid', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.invalid' } });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), '# bench\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  return dir;
}

/** A data dir whose host starts at once: demo, the repository chosen, any free port. */
function dataDir(repo) {
  const d = temp('data');
  writeFileSync(join(d, 'config.toml'), 'port = 0\nno_tailscale = true\ntranscriber = false\nstay_awake = false\n');
  writeFileSync(join(d, 'desktop.json'), JSON.stringify({ repos: [repo], demo: true, paused: false }));
  return d;
}

/** Every process in `pid`'s tree (the app's WebKit web and network processes included). */
function tree(pid) {
  const children = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch {
      // gone
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function rssMb(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

function cpuTicks(pids) {
  let t = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(readFileSync(`/proc/${p}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]); // utime + stime
    } catch {
      // gone
    }
  }
  return t;
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

async function idle(pid) {
  await sleep(IDLE_S * 1000);
  const pids = tree(pid);
  const t0 = cpuTicks(pids);
  await sleep(20_000);
  const pids2 = tree(pid);
  return { rss: rssMb(pids2), cpu: ((cpuTicks(pids2) - t0) / TICKS / 20) * 100 };
}

function stop(child) {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // gone
  }
  return new Promise((r) => {
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      r();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

/**
 * One launch, measured. Now and then (about one launch in ten here) WebKitGTK's app fails to
 * open the Xvfb display at all ("Failed to initialize GTK") and exits at once: that launch is
 * retried, said on stderr, and not counted.
 */
async function launchApp(env, repo, measureIdle) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchAppOnce(env, repo, measureIdle);
    } catch (e) {
      if (attempt >= 3 || !/Failed to initialize GTK/.test(String(e))) throw e;
      process.stderr.write(`launch ${attempt}: GTK could not open the display; trying again\n`);
      await sleep(500);
    }
  }
}

async function launchAppOnce(env, repo, measureIdle) {
  const data = dataDir(repo);
  const start = performance.now();
  const child = spawn(APP, [], { env: { ...env, ARCBENCH_DATA_DIR: data, ARCBENCH_CONFIG: join(data, 'config.toml') }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? code));
  for (;;) {
    const found = spawnSync('xdotool', ['search', '--onlyvisible', '--name', '^ArcBench$'], { env, encoding: 'utf8' }).stdout.trim();
    if (found) break;
    if (exited !== null) throw new Error(`the app exited (${exited}) before its window showed:\n${stderr}`);
    if (performance.now() - start > 60_000) throw new Error(`the app window did not show in 60 s:\n${stderr}`);
    await sleep(10);
  }
  const shown = performance.now() - start;
  const usage = measureIdle ? await idle(child.pid) : null;
  await stop(child);
  return { shown, usage };
}

async function launchServe(env, repo, measureIdle) {
  const data = dataDir(repo);
  const start = performance.now();
  const child = spawn(SERVE, ['serve', '--demo', '--repo', repo, '--data-dir', data, '--port', '0', '--no-tailscale', '--no-transcriber', '--no-stay-awake'], { env, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  await new Promise((r, j) => {
    createInterface({ input: child.stdout }).on('line', (l) => l.startsWith('listening on') && r());
    child.once('exit', () => j(new Error('serve exited')));
  });
  const listening = performance.now() - start;
  const usage = measureIdle ? await idle(child.pid) : null;
  await stop(child);
  return { shown: listening, usage };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  // A display no X server holds (nor one still exiting from an earlier run).
  const free = [...Array(20).keys()].map((i) => 80 + i).find((n) => !existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`));
  if (free === undefined) throw new Error('no free X display between :80 and :99');
  const display = `:${free}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore', detached: true });
  for (let i = 0; spawnSync('xdpyinfo', ['-display', display]).status !== 0; i++) {
    if (i > 100 || xvfb.exitCode !== null) throw new Error(`Xvfb did not start on ${display}`);
    await sleep(100);
  }
  const home = temp('home');
  mkdirSync(join(home, 'data'));
  const env = {
    ...process.env,
    DISPLAY: display,
    DBUS_SESSION_BUS_ADDRESS: 'disabled:',
    ARCBENCH_KEYCHAIN: 'none',
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    WEBKIT_DISABLE_COMPOSITING_MODE: '1',
  };
  const repo = fixtureRepo();
  try {
    const app = [];
    const serve = [];
    for (let i = 0; i < RUNS; i++) {
      app.push((await launchApp(env, repo, false)).shown);
      serve.push((await launchServe(env, repo, false)).shown);
    }
    process.stderr.write(`idling each for ${IDLE_S} s, then measuring 20 s…\n`);
    const appIdle = (await launchApp(env, repo, true)).usage;
    const serveIdle = (await launchServe(env, repo, true)).usage;
    const size = (p) => statSync(p).size / 1e6;
    const rows = [
      ['launch → window shown (app) / listening (serve), p50 ms', median(app), median(serve)],
      [`idle RSS after ${IDLE_S} s, MB (process tree)`, appIdle.rss, serveIdle.rss],
      [`idle CPU after ${IDLE_S} s, % of one core`, appIdle.cpu, serveIdle.cpu],
      ['release binary, MB', size(APP), size(SERVE)],
    ];
    console.log(`\n### Desktop app beside \`arcbench serve\` (${RUNS} launches each, release builds, Xvfb)\n`);
    console.log('| measure | desktop app | arcbench serve (baseline) | ratio |');
    console.log('|---|---:|---:|---:|');
    for (const [name, a, b] of rows) console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${b > 0 ? (a / b).toFixed(2) + '×' : '—'} |`);
  } finally {
    try {
      process.kill(-xvfb.pid, 'SIGTERM');
    } catch {
      // gone
    }
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  }
}

await main();
