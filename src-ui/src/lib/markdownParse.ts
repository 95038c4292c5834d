import { Marked } from 'marked';

/** The agent's Markdown as (unsanitised) HTML; run in the Markdown worker, or the page as a fallback. */
const md = new Marked({ gfm: true, breaks: false, async: false });

export function parseMarkdown(text: string): string {
  return md.parse(text) as string;
}
