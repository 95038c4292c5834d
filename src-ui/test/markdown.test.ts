// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/lib/markdown';

// (Sanitising is DOMPurify's, run against the browser's own parser; happy-dom's parser is not
// one to judge it by, so only the parsing path is checked here.)
describe('renderMarkdown', () => {
  it('parses in the page where no worker can run', async () => {
    expect(typeof Worker).toBe('undefined');
    const html = await renderMarkdown('Done.\n\n```rust\nfn five() {}\n```');
    expect(html).toContain('<code class="language-rust">fn five() {}');
  });
});
