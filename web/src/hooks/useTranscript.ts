import { useCallback, useEffect, useRef, useState } from 'react';
import type { MatchInfo } from '../protocol';
import { downloadText, transcriptFileName, transcriptText, type TranscriptWords } from '../transcript';
import { track, type Tracked } from './useLastPartner';
import type { ChatLine } from './useMatch';

/** What Copy did: the text is on the clipboard, or the browser refused. */
export type CopyResult = 'copied' | 'failed';

export interface Transcript {
  /** Downloads the last conversation as a .txt file. */
  save: () => void;
  /** Puts it on the clipboard. */
  copy: () => Promise<void>;
  /** The last Copy's result, until the next conversation. */
  copied: CopyResult | null;
}

export interface TranscriptOptions {
  match: MatchInfo | null;
  /** The chat lines the page shows (useMatch clears them on Next and Stop). */
  lines: readonly ChatLine[];
  /** The transcript's words, given when the conversation ended (in the page's language). */
  words: (ended: Date, common: string[]) => TranscriptWords;
  /** Writes text to the clipboard (default: navigator.clipboard; tests pass a fake). */
  writeClipboard?: (text: string) => Promise<void>;
  /** Downloads text as a file (tests pass a fake). */
  download?: (text: string, name: string) => void;
  now?: () => number;
}

const nothing: Tracked = { match: null, conversation: null, ended: null };

function clipboardWrite(text: string): Promise<void> {
  if (!navigator.clipboard?.writeText) return Promise.reject(new Error('no clipboard'));
  return navigator.clipboard.writeText(text);
}

/**
 * Keeping the conversation: once a chat has ended (the stranger left, Next, Stop), its lines
 * can be saved as a file or copied, made in the browser, until the next conversation starts.
 * Null while there is nothing to keep (never chatted, or a chat is going on).
 */
export function useTranscript({ match, lines, words, writeClipboard = clipboardWrite, download = downloadText, now = Date.now }: TranscriptOptions): Transcript | null {
  // the same tracking as the report's: the last match's lines, kept after Next clears them
  const [tracked, setTracked] = useState<Tracked>(() => track(nothing, match, lines, now));
  const current = track(tracked, match, lines, now);
  if (current !== tracked) setTracked(current);
  const [copied, setCopied] = useState<CopyResult | null>(null);

  const { conversation, ended } = current;
  const kept = !match && conversation && ended?.matchID === conversation.matchID && conversation.lines.length > 0 ? conversation : null;
  const endedAt = ended?.endedAt;
  const text = useCallback(() => {
    if (!kept || endedAt === undefined) return null;
    const when = new Date(endedAt);
    return { text: transcriptText(kept.lines, words(when, kept.common)), name: transcriptFileName(when) };
  }, [kept, endedAt, words]);

  useEffect(() => setCopied(null), [conversation?.matchID]);
  const mountedRef = useRef(true);
  useEffect(() => {
    mountedRef.current = true;
    return () => {
      mountedRef.current = false;
    };
  }, []);

  const save = useCallback(() => {
    const made = text();
    if (made) download(made.text, made.name);
  }, [text, download]);
  const copy = useCallback(async () => {
    const made = text();
    if (!made) return;
    let result: CopyResult = 'copied';
    try {
      await writeClipboard(made.text);
    } catch {
      result = 'failed';
    }
    if (mountedRef.current) setCopied(result);
  }, [text, writeClipboard]);

  return kept ? { save, copy, copied } : null;
}
