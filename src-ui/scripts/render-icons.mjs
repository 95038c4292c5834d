// Renders the PNG icons in ../icons from their SVG sources with Debian's Chromium, so the PNGs
// (committed) always match the SVG. Run after changing an SVG: `node scripts/render-icons.mjs`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const icons = fileURLToPath(new URL('../../icons/', import.meta.url));
/** @type {[string, string, number][]} */
const renders = [
  ['icon.svg', 'icon-180.png', 180],
  ['icon.svg', 'icon-192.png', 192],
  ['icon.svg', 'icon-512.png', 512],
  ['icon-maskable.svg', 'icon-maskable-512.png', 512],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  for (const [src, out, size] of renders) {
    const svg = readFileSync(icons + src, 'utf8');
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img style="width:${size}px;height:${size}px;display:block" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></body></html>`,
    );
    await page.screenshot({ path: icons + out, omitBackground: true });
    console.log(`icons/${out}`);
  }
} finally {
  await browser.close();
}
