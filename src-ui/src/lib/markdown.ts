import DOMPurify from 'dompurify';

/**
 * The agent's text as safe HTML. The model's output is untrusted (it can echo anything from the
 * repository), so everything marked produces goes through DOMPurify; links open outside the app.
 * marked runs in a worker (markdown.worker.ts), or here where workers are unavailable.
 */
let hooked = false;
function sanitize(html: string): string {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'img'] });
}

let worker: Worker | null | undefined;
let nextId = 0;
const waiting = new Map<number, (html: string | null) => void>();

function parser(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./markdown.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<{ id: number; html: string }>) => {
      waiting.get(e.data.id)?.(e.data.html);
      waiting.delete(e.data.id);
    };
    worker.onerror = () => {
      // The worker cannot run here (blocked, failed to load): parse in the page from now on.
      worker = null;
      for (const done of waiting.values()) done(null);
      waiting.clear();
    };
  } catch {
    worker = null;
  }
  return worker;
}

async function parseHere(text: string): Promise<string> {
  const { parseMarkdown } = await import('./markdownParse');
  return parseMarkdown(text);
}

export async function renderMarkdown(text: string): Promise<string> {
  const w = typeof Worker === 'undefined' ? null : parser();
  let html: string | null = null;
  if (w) {
    const id = ++nextId;
    html = await new Promise<string | null>((resolve) => {
      waiting.set(id, resolve);
      w.postMessage({ id, text });
    });
  }
  return sanitize(html ?? (await parseHere(text)));
}
