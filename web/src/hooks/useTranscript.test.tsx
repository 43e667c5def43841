import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { MatchInfo } from '../protocol';
import { transcriptFileName, transcriptText, type TranscriptWords } from '../transcript';
import type { ChatLine } from './useMatch';
import { useTranscript, type TranscriptOptions } from './useTranscript';

const m1: MatchInfo = { partner_id: 'p', match_id: 'm1', initiator: false, mode: 'text', common_interests: ['chess'] };
const lines: ChatLine[] = [
  { id: 1, from: 'system', notice: 'matched' },
  { id: 2, from: 'stranger', text: 'hi' },
  { id: 3, from: 'me', text: 'hello: https://example.org/a-very-long-link' },
];
const left: ChatLine[] = [...lines, { id: 4, from: 'system', notice: 'partner_left' }];
const words = (ended: Date, common: string[]): TranscriptWords => ({
  heading: `Chat of ${ended.toISOString()}`,
  common: common.length ? `You both like: ${common.join(', ')}` : null,
  you: 'You',
  stranger: 'Stranger',
  system: (notice) => ({ matched: 'Matched.', matchedRandom: 'Random.', matchedLanguage: 'Language.', partner_left: 'Stranger has disconnected.' })[notice],
});

type Props = Pick<TranscriptOptions, 'match' | 'lines'>;

function setup() {
  const download = vi.fn();
  const writeClipboard = vi.fn(async (_text: string) => {});
  const now = () => Date.UTC(2026, 11, 2, 14, 3);
  const hook = renderHook((p: Props) => useTranscript({ ...p, words, download, writeClipboard, now }), {
    initialProps: { match: m1, lines } as Props,
    reactStrictMode: true,
  });
  return { ...hook, download, writeClipboard };
}

const text = `Chat of 2026-12-02T14:03:00.000Z
You both like: chess

— Matched.
Stranger: hi
You: hello: https://example.org/a-very-long-link
— Stranger has disconnected.
`;

describe('useTranscript', () => {
  it('nothing to keep during a chat; once it ended, Save chat downloads it as a .txt and Copy puts it on the clipboard', async () => {
    const { result, rerender, download, writeClipboard } = setup();
    expect(result.current).toBeNull();
    rerender({ match: null, lines: left }); // the stranger left
    act(() => result.current!.save());
    expect(download).toHaveBeenCalledWith(text, transcriptFileName(new Date(Date.UTC(2026, 11, 2, 14, 3))));
    await act(() => result.current!.copy());
    expect(writeClipboard).toHaveBeenCalledWith(text);
    expect(result.current!.copied).toBe('copied');
  });

  it('kept through Next (the page clears its lines) until the next conversation starts', () => {
    const { result, rerender } = setup();
    rerender({ match: null, lines: left });
    rerender({ match: null, lines: [] }); // Next: searching
    expect(result.current).not.toBeNull();
    rerender({ match: { ...m1, match_id: 'm2' }, lines: [{ id: 9, from: 'system', notice: 'matched' }] });
    expect(result.current).toBeNull();
  });

  it('a browser that refuses the clipboard: says so', async () => {
    const { result, rerender, writeClipboard } = setup();
    writeClipboard.mockRejectedValueOnce(new DOMException('no', 'NotAllowedError'));
    rerender({ match: null, lines: left });
    await act(() => result.current!.copy());
    expect(result.current!.copied).toBe('failed');
  });
});

describe('transcriptText and transcriptFileName', () => {
  it('one line per message, system lines marked, no shared interests line when there were none', () => {
    expect(transcriptText(lines.slice(1), { ...words(new Date(0), []), heading: 'H' })).toBe('H\n\nStranger: hi\nYou: hello: https://example.org/a-very-long-link\n');
  });
  it('names the file by when the chat ended, in local time', () => {
    expect(transcriptFileName(new Date(2026, 0, 5, 9, 7))).toBe('go-megle-chat-2026-01-05-0907.txt');
  });
});

describe('downloadText', () => {
  it('a Blob behind an <a download>, clicked and gone; nothing fetched', async () => {
    const { downloadText } = await import('../transcript');
    const created: Blob[] = [];
    const create = vi.fn((blob: Blob) => (created.push(blob), 'blob:transcript'));
    const revoke = vi.fn();
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });
    const clicked: HTMLAnchorElement[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    vi.useFakeTimers();
    try {
      downloadText('Stranger: hi\n', 'go-megle-chat.txt');
      expect(clicked).toHaveLength(1);
      expect(clicked[0].download).toBe('go-megle-chat.txt');
      expect(clicked[0].href).toBe('blob:transcript');
      expect(clicked[0].isConnected).toBe(false);
      expect(await created[0].text()).toBe('Stranger: hi\n');
      expect(created[0].type).toBe('text/plain;charset=utf-8');
      vi.runAllTimers();
      expect(revoke).toHaveBeenCalledWith('blob:transcript');
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
      click.mockRestore();
    }
  });
});
