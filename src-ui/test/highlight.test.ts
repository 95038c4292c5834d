import { describe, expect, it } from 'vitest';
import { highlightHunk, languageFor, splitHighlightedLines } from '../src/lib/highlight';

describe('splitHighlightedLines', () => {
  it('closes and reopens spans that cross a newline', () => {
    const html = 'a <span class="c">/* one\ntwo */</span> b\n<span class="k">fn</span>';
    expect(splitHighlightedLines(html)).toEqual(['a <span class="c">/* one</span>', '<span class="c">two */</span> b', '<span class="k">fn</span>']);
  });

  it('handles nested spans and empty lines', () => {
    const html = '<span class="a"><span class="b">x\n\ny</span></span>';
    expect(splitHighlightedLines(html)).toEqual([
      '<span class="a"><span class="b">x</span></span>',
      '<span class="a"><span class="b"></span></span>',
      '<span class="a"><span class="b">y</span></span>',
    ]);
  });
});

describe('languageFor', () => {
  it('maps file names to registered languages', () => {
    expect(languageFor('src/util.rs')).toBe('rust');
    expect(languageFor('web/App.TSX')).toBe('typescript');
    expect(languageFor('Dockerfile')).toBe('bash');
    expect(languageFor('LICENSE')).toBeNull();
  });
});

describe('highlightHunk', () => {
  it('highlights each side as its own text and maps lines back', async () => {
    const lines = [
      { kind: 'context' as const, text: '/* a comment' },
      { kind: 'del' as const, text: '   still comment */ fn old() {}' },
      { kind: 'add' as const, text: '   still comment */ fn new() {}' },
      { kind: 'context' as const, text: 'let x = "s";' },
    ];
    const html = await highlightHunk(lines, 'rust');
    expect(html).toHaveLength(4);
    // The comment opened on the first line is still a comment on the next, on both sides.
    expect(html?.[1]).toMatch(/^<span class="hljs-comment"> {3}still comment \*\/<\/span>/);
    expect(html?.[2]).toMatch(/^<span class="hljs-comment"> {3}still comment \*\/<\/span>/);
    expect(html?.[2]).toContain('new');
    expect(html?.[3]).toContain('hljs-string');
  });

  it('escapes the source text', async () => {
    const html = await highlightHunk([{ kind: 'add', text: 'let s = "<img onerror=x>";' }], 'rust');
    expect(html?.[0]).not.toContain('<img');
    expect(html?.[0]).toContain('&lt;img');
  });

  it('gives up quietly on unknown languages', async () => {
    expect(await highlightHunk([{ kind: 'add', text: 'x' }], null)).toBeNull();
    expect(await highlightHunk([{ kind: 'add', text: 'x' }], 'cobol')).toBeNull();
  });
});
