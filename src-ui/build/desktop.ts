import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';

/**
 * Build steps of the desktop app's window (`vite build --mode app` → dist-app/, loaded by
 * src-tauri as tauri://localhost/index.html):
 * - index.html loses its Content-Security-Policy meta tag: the app's policy is src-tauri's
 *   (tauri.conf.json `app.security.csp`, sent with every page and extended by Tauri with its own
 *   hashes). A second policy in the page would be enforced as well, and its `connect-src 'self'`
 *   forbids the host on 127.0.0.1 that the window talks to;
 * - the installable-app tags (manifest, home-screen icons) go: nothing installs this page;
 * - the one icon the page shows (top bar, pair screen, favicon) is copied next to it.
 */
export function arcbenchDesktopShell(options: { iconsDir: string }): Plugin {
  let outDir = '';
  return {
    name: 'arcbench-desktop-shell',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    transformIndexHtml(html) {
      const csp = /\s*<!--[^>]*?-->\s*(?=<meta\s+http-equiv="Content-Security-Policy")|\s*<meta\s+http-equiv="Content-Security-Policy"[^>]*\/>/g;
      const out = html
        .replace(csp, '')
        .replace(/\s*<link rel="(manifest|apple-touch-icon)"[^>]*\/>/g, '')
        .replace(/\s*<meta name="(apple-mobile-web-app-[a-z-]+|mobile-web-app-capable)"[^>]*\/>/g, '');
      // index.html changed shape: better a failed build than a window whose policy blocks the host.
      if (out.includes('Content-Security-Policy')) throw new Error('arcbench-desktop-shell: the CSP meta tag of index.html was not removed');
      return out;
    },
    closeBundle() {
      const iconsOut = join(outDir, 'icons');
      mkdirSync(iconsOut, { recursive: true });
      copyFileSync(join(options.iconsDir, 'icon.svg'), join(iconsOut, 'icon.svg'));
    },
  };
}
