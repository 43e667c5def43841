import { useEffect, useState } from 'react';
import type { BannedData } from '../protocol';
import { keepAppealToken, readAppealToken, rememberAppealKey } from './useAppeal';
import type { Signaling } from './useSignaling';

export interface Ban {
  /** When the ban ends; null when the server's timestamp could not be read. */
  until: Date | null;
  /** The moderator's words, shown as they are. */
  reason: string;
  /** The ban's appeal token: told to the banned page itself, and kept for its reloads (null: none here). */
  appeal: string | null;
}

/** A banned message as the page shows it. */
export function toBan(data: BannedData): Ban {
  const until = new Date(data.until);
  return { until: Number.isNaN(until.getTime()) ? null : until, reason: data.reason, appeal: data.appeal ?? null };
}

/**
 * Whether this page's address is banned: the server says banned and closes with
 * 4003 (useSignaling then never reconnects). Null while it is not. A page that
 * lost the message but got the close is banned too, with nothing more to say.
 */
export function useBan(signaling: Pick<Signaling, 'status' | 'subscribe'>): Ban | null {
  const { status, subscribe } = signaling;
  const [ban, setBan] = useState<Ban | null>(null);
  useEffect(
    () =>
      subscribe((message) => {
        if (message.event === 'hello' && message.data.appeal_key) rememberAppealKey(message.data.id, message.data.appeal_key);
        if (message.event !== 'banned') return;
        // The token comes once, to the banned page; a reload hears the ban again without it.
        if (message.data.appeal) keepAppealToken(message.data.appeal, message.data.until);
        setBan(toBan({ ...message.data, appeal: message.data.appeal ?? readAppealToken(message.data.until) ?? undefined }));
      }),
    [subscribe],
  );
  if (ban) return ban;
  return status === 'banned' ? { until: null, reason: '', appeal: null } : null;
}
