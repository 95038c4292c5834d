import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/**
 * Build steps of the installable app:
 * - the icons from the repository's icons/ folder go to dist/icons/;
 * - sw.js gets the list of every built file and a version hash of their contents, so a new build
 *   is a new service worker and the shell cache is replaced as a whole;
 * - the entry's JavaScript (the entry chunk and what it imports statically: what loads before
 *   the app can respond) is gzipped, printed, and held to a budget;
 * - no file carries the Tauri apps' code (`appOnlyMarkers`: their IPC command names): main.ts
 *   keeps it behind `MODE === 'app'` so this build drops it, and a slip would ship (and precache) it.
 */
export function arcbenchPwa(options: { iconsDir: string; swSource: string; entryBudgetBytes: number; appOnlyMarkers: string[] }): Plugin {
  let outDir = '';
  return {
    name: 'arcbench-pwa',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
      for (const c of chunks) {
        const marker = options.appOnlyMarkers.find((m) => c.code.includes(m));
        if (marker) return this.error(`${c.fileName} carries the Tauri apps' code (${marker}): it belongs only in the app build`);
      }
      const entry = chunks.find((c) => c.isEntry);
      if (!entry) return this.error('no entry chunk');
      const seen = new Set<string>();
      const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const c = bundle[name];
        if (c?.type === 'chunk') c.imports.forEach(visit);
      };
      visit(entry.fileName);
      let raw = 0;
      let gz = 0;
      for (const name of seen) {
        const c = bundle[name];
        if (c?.type !== 'chunk') continue;
        raw += Buffer.byteLength(c.code);
        gz += gzipSync(c.code, { level: 9 }).length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      const line = `entry JavaScript: ${kb(gz)} gzipped (${kb(raw)} raw, ${seen.size} file${seen.size === 1 ? '' : 's'}); budget ${kb(options.entryBudgetBytes)}`;
      console.log(`\n[arcbench] ${line}`);
      writeSizeReport(outDir, { entry_js_gzip_bytes: gz, entry_js_raw_bytes: raw, budget_bytes: options.entryBudgetBytes });
      if (gz > options.entryBudgetBytes) this.error(`over budget: ${line}`);
    },
    closeBundle() {
      const iconsOut = join(outDir, 'icons');
      mkdirSync(iconsOut, { recursive: true });
      for (const f of readdirSync(options.iconsDir)) {
        if (/\.(png|svg)$/.test(f)) copyFileSync(join(options.iconsDir, f), join(iconsOut, f));
      }
      const files = listFiles(outDir)
        .map((f) => relative(outDir, f).split('\\').join('/'))
        .filter((f) => f !== 'sw.js' && f !== 'size-report.json')
        .sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(join(outDir, f)));
      const version = hash.digest('hex').slice(0, 16);
      const sw = readFileSync(options.swSource, 'utf8')
        .replace("const VERSION = '__SHELL_VERSION__';", `const VERSION = ${JSON.stringify(version)};`)
        .replace('const FILES = __SHELL_FILES__;', `const FILES = ${JSON.stringify(files)};`);
      if (sw.includes('__SHELL_')) this.error('sw.js placeholders were not filled in');
      writeFileSync(join(outDir, 'sw.js'), sw);
      console.log(`[arcbench] service worker: ${files.length} shell files, version ${version}`);
    },
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

function writeSizeReport(outDir: string, report: Record<string, number>): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'size-report.json'), JSON.stringify(report, null, 2) + '\n');
}
