import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLiteralStrings } from './test/literalStrings';

const src = join(import.meta.dirname, '.');

// Everything the UI is made of. languages.ts is exempt: its autonyms
// ("Español", "العربية") are each language's own name, the same in every UI; so is
// picture/virtualCameras.ts: its names are matched against the labels browsers give
// devices, never shown.
const EXEMPT = new Set(['languages.ts', join('picture', 'virtualCameras.ts')]);
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' || entry.name === 'locales' ? [] : sourceFiles(path);
    if (!/\.tsx?$/.test(entry.name) || /\.test\.tsx?$/.test(entry.name) || entry.name.endsWith('.d.ts')) return [];
    return EXEMPT.has(relative(src, path)) ? [] : [path];
  });
}

describe('no hard-coded UI strings', () => {
  const files = sourceFiles(src);

  it('covers App.tsx, every component and hook', () => {
    const names = files.map((file) => relative(src, file));
    expect(names).toContain('App.tsx');
    expect(names).toEqual(expect.arrayContaining(['components/Landing.tsx', 'components/ChatPanel.tsx', 'hooks/useMatch.ts']));
  });

  it.each(sourceFiles(src).map((file) => [relative(src, file), file]))('%s: every user-visible string is a t() call', (_name, file) => {
    const found = findLiteralStrings(readFileSync(file, 'utf8'), relative(src, file));
    expect(found.map(({ file: f, line, why, text }) => `${f}:${line} ${why}: ${JSON.stringify(text)}`)).toEqual([]);
  });
});

describe('findLiteralStrings (the check itself)', () => {
  const check = (code: string) => findLiteralStrings(code, 'sample.tsx').map((hit) => hit.text);

  it.each([
    ['JSX text', 'const a = <p>Hello there</p>;', ['Hello there']],
    ['a single word of JSX text', 'const a = <button>Send</button>;', ['Send']],
    ['aria-label', 'const a = <video aria-label="Stranger" />;', ['Stranger']],
    ['placeholder in a conditional', "const a = <input placeholder={ok ? 'Type a message' : 'Wait'} />;", ['Type a message', 'Wait']],
    ['title and alt', 'const a = <img alt="logo" title={`Hi ${name}`} />;', ['logo', 'Hi']],
    ['a component prop', 'const a = <VideoTile label="You" />;', ['You']],
    ['prose in a lookup table', "const speaker = { me: 'You said', other: 'Stranger' };", ['You said', 'Stranger']],
    ['non-Latin prose', "const s = 'привет';", ['привет']],
    ['prose passed to a helper in an attribute', "const a = <p title={format('Hello world')} />;", ['Hello world']],
  ])('flags %s', (_name, code, want) => {
    expect(check(code)).toEqual(want);
  });

  it.each([
    ['t() calls', "const a = <p title={t('a.b')}>{t('chat.typing', { name: 'x' })}</p>;"],
    ['technical attributes', '<div className="chat-view mode-text" role="log" aria-live="polite" data-testid="chat-log" id="x" />'],
    ['symbols in JSX', 'const a = <button>×</button>;'],
    ['event handlers and options objects', "const a = <input onChange={() => go('text')} aria-valuetext={fmt({ style: 'percent' })} />;"],
    ['keys and identifiers', "const k = 'status.connected'; const m = 'video'; const e = 'partner_left';"],
    ['comparisons and cases', "if (event.key === 'Escape') {} switch (name) { case 'NotAllowedError': break; }"],
    ['types', "type Mode = 'Video And Text' | 'x'; let v: 'Hello world';"],
    ['developer messages', "console.warn('offer failed', err); throw new Error('missing root');"],
    ['imports', "import x from 'Some Module';"],
    ['HTTP protocol words', "const h = { Authorization: `Bearer ${token}` }; r.headers.get('Content-Type');"],
    ['comments', '// Say hello to the stranger\nconst a = 1;'],
  ])('allows %s', (_name, code) => {
    expect(check(code)).toEqual([]);
  });
});
