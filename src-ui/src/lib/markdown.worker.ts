// Parses the agent's Markdown off the page's main thread: marked's first use alone (compiling its
// code and its regular expressions) is a long task on a slow phone, right when a session opens.
// The page sanitises what comes back (DOMPurify needs a DOM).
import { parseMarkdown } from './markdownParse';

self.onmessage = (e: MessageEvent<{ id: number; text: string }>) => {
  self.postMessage({ id: e.data.id, html: parseMarkdown(e.data.text) });
};
