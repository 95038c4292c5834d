import type { HLJSApi, LanguageFn } from 'highlight.js';

/**
 * Syntax highlighting for diffs with highlight.js core and a handful of languages, all loaded on
 * first use so none of it weighs on the app's entry. Unknown file types stay plain text.
 */
type Loader = () => Promise<{ default: LanguageFn }>;

const LANGUAGES: Record<string, Loader> = {
  rust: () => import('highlight.js/lib/languages/rust'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  python: () => import('highlight.js/lib/languages/python'),
  json: () => import('highlight.js/lib/languages/json'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  css: () => import('highlight.js/lib/languages/css'),
  xml: () => import('highlight.js/lib/languages/xml'),
  bash: () => import('highlight.js/lib/languages/bash'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
  ini: () => import('highlight.js/lib/languages/ini'),
  go: () => import('highlight.js/lib/languages/go'),
  sql: () => import('highlight.js/lib/languages/sql'),
  java: () => import('highlight.js/lib/languages/java'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
};

const BY_EXTENSION: Record<string, string> = {
  rs: 'rust',
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  json: 'json',
  md: 'markdown',
  markdown: 'markdown',
  css: 'css',
  scss: 'css',
  html: 'xml',
  htm: 'xml',
  xml: 'xml',
  svg: 'xml',
  svelte: 'xml',
  vue: 'xml',
  sh: 'bash',
  bash: 'bash',
  zsh: 'bash',
  yml: 'yaml',
  yaml: 'yaml',
  toml: 'ini',
  ini: 'ini',
  cfg: 'ini',
  go: 'go',
  sql: 'sql',
  java: 'java',
  kt: 'java',
  c: 'cpp',
  h: 'cpp',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
};

const BY_NAME: Record<string, string> = {
  dockerfile: 'bash',
  makefile: 'bash',
  'cargo.lock': 'ini',
};

export function languageFor(path: string): string | null {
  const name = path.split('/').pop()?.toLowerCase() ?? '';
  const byName = BY_NAME[name];
  if (byName) return byName;
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? (BY_EXTENSION[name.slice(dot + 1)] ?? null) : null;
}

let core: Promise<HLJSApi> | null = null;
const registered = new Map<string, Promise<boolean>>();

async function ready(language: string): Promise<HLJSApi | null> {
  const load = LANGUAGES[language];
  if (!load) return null;
  core ??= import('highlight.js/lib/core').then((m) => m.default);
  const hljs = await core;
  let reg = registered.get(language);
  if (!reg) {
    reg = load()
      .then((m) => {
        hljs.registerLanguage(language, m.default);
        return true;
      })
      .catch(() => false);
    registered.set(language, reg);
  }
  return (await reg) ? hljs : null;
}

/**
 * Highlights a run of consecutive source lines as one text (so a string or comment spanning lines
 * is coloured right) and hands back one HTML string per line; null when the language is unknown.
 */
export async function highlightLines(lines: string[], language: string | null): Promise<string[] | null> {
  if (!language || lines.length === 0) return null;
  const hljs = await ready(language);
  if (!hljs) return null;
  const html = hljs.highlight(lines.join('\n'), { language, ignoreIllegals: true }).value;
  const out = splitHighlightedLines(html);
  return out.length === lines.length ? out : null;
}

/**
 * Splits highlight.js HTML at newlines. A token spanning lines is a `<span>` containing a newline,
 * so at each newline the open spans are closed and then reopened on the next line, leaving every
 * line well-formed on its own.
 */
export function splitHighlightedLines(html: string): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let current = '';
  const tag = /<\/?span[^>]*>|\n/g;
  let at = 0;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    current += html.slice(at, m.index);
    at = m.index + m[0].length;
    const t = m[0];
    if (t === '\n') {
      lines.push(current + '</span>'.repeat(open.length));
      current = open.join('');
    } else if (t.startsWith('</')) {
      open.pop();
      current += t;
    } else {
      open.push(t);
      current += t;
    }
  }
  lines.push(current + html.slice(at));
  return lines;
}

/** The hunk's lines as HTML: each side (old, new) is highlighted as the file reads on that side. */
export async function highlightHunk(
  lines: readonly { kind: 'context' | 'add' | 'del'; text: string }[],
  language: string | null,
): Promise<string[] | null> {
  const oldSide = lines.filter((l) => l.kind !== 'add').map((l) => l.text);
  const newSide = lines.filter((l) => l.kind !== 'del').map((l) => l.text);
  const [oldHtml, newHtml] = await Promise.all([highlightLines(oldSide, language), highlightLines(newSide, language)]);
  if ((oldSide.length && !oldHtml) || (newSide.length && !newHtml)) return null;
  let o = 0;
  let n = 0;
  return lines.map((l) => {
    if (l.kind === 'del') return oldHtml?.[o++] ?? '';
    if (l.kind === 'context') o++;
    return newHtml?.[n++] ?? '';
  });
}
