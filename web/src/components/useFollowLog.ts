import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

/** How close to the end (px) still counts as reading the newest line. */
const AT_END_SLACK = 24;

export interface FollowLog {
  /** New lines arrived while the user was reading further up. */
  behind: boolean;
  /** Back to the newest line (the "new messages" button, or the user's own message). */
  toEnd: () => void;
}

/**
 * A chat log that follows the conversation: each new line is scrolled into view while the
 * user is at the end; once they scroll up to read, it stays where they are and says that
 * new lines came (behind) until they come back down. A log that changes size (the on-screen
 * keyboard, turning the phone) keeps its end in view if it was there. changed is whatever
 * changes with the content (the lines).
 */
export function useFollowLog(ref: RefObject<HTMLElement | null>, changed: unknown): FollowLog {
  const atEndRef = useRef(true);
  const [behind, setBehind] = useState(false);

  const toEnd = useCallback(() => {
    const log = ref.current;
    if (log) log.scrollTop = log.scrollHeight;
    atEndRef.current = true;
    setBehind(false);
  }, [ref]);

  useEffect(() => {
    const log = ref.current;
    if (!log) return;
    const listeners = new AbortController();
    log.addEventListener(
      'scroll',
      () => {
        const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight <= AT_END_SLACK;
        atEndRef.current = atEnd;
        if (atEnd) setBehind(false);
      },
      { signal: listeners.signal, passive: true },
    );
    const resized = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => {
      if (atEndRef.current) log.scrollTop = log.scrollHeight;
    });
    resized?.observe(log);
    return () => {
      listeners.abort();
      resized?.disconnect();
    };
  }, [ref]);

  // Before paint, so a new line never shows half out of view for a frame.
  useLayoutEffect(() => {
    const log = ref.current;
    if (!log) return;
    if (log.scrollHeight - log.clientHeight <= AT_END_SLACK) {
      atEndRef.current = true; // it all fits (a new conversation): nothing to be behind on
      setBehind(false);
    } else if (atEndRef.current) log.scrollTop = log.scrollHeight;
    else setBehind(true);
  }, [ref, changed]);

  return { behind, toEnd };
}
