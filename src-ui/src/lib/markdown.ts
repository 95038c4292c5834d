import DOMPurify from 'dompurify';
import { Marked } from 'marked';

/**
 * The agent's text as safe HTML. The model's output is untrusted (it can echo anything from the
 * repository), so everything marked produces goes through DOMPurify; links open outside the app.
 */
const md = new Marked({ gfm: true, breaks: false, async: false });

let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
}

export function renderMarkdown(text: string): string {
  hook();
  const html = md.parse(text) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'img'] });
}
