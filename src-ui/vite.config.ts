import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { arcbenchDesktopShell } from './build/desktop.ts';
import { arcbenchPwa } from './build/pwa.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const host = process.env.ARCBENCH_HOST ?? 'http://127.0.0.1:8000';

export default defineConfig(({ mode }) => {
  // `vite build --mode app`: the desktop app's window (src-tauri loads tauri://localhost/index.html
  // from dist-app/). No service worker, no manifest: its files are on the disk already.
  const app = mode === 'app';
  return {
    // The host serves the built app at /app/ (arcbench serve --ui-dir, default src-ui/dist).
    base: app ? '/' : '/app/',
    publicDir: app ? false : 'public',
    plugins: [
      svelte(),
      app
        ? arcbenchDesktopShell({ iconsDir: here('../icons') })
        : arcbenchPwa({
            iconsDir: here('../icons'),
            swSource: here('./sw/sw.js'),
            entryBudgetBytes: 150 * 1024,
            // A command of the desktop app's and one of the phone app's.
            appOnlyMarkers: ['get_state', 'host_credentials'],
          }),
    ],
    // The Markdown worker is an ES module (new Worker(..., { type: 'module' })).
    worker: { format: 'es' },
    build: {
      outDir: app ? 'dist-app' : 'dist',
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      // The app shell is small; no need to inline assets into JS.
      assetsInlineLimit: 0,
    },
    server: {
      // `npm run dev` against a running host: the API is proxied so the page stays same-origin.
      proxy: {
        ...Object.fromEntries(['/status', '/sessions', '/usage', '/budget', '/events', '/pair', '/pairing-codes', '/devices', '/push', '/transcribe', '/speech'].map((p) => [p, host])),
        '/ws': { target: host, ws: true },
      },
    },
    // Tests run Svelte's client runtime (reactive $state, effects), not its server build.
    resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
    test: {
      include: ['test/**/*.test.ts'],
      environment: 'node',
    },
  };
});
