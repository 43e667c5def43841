import { useEffect, useState } from 'react';
import type { BannedData } from '../protocol';
import type { Signaling } from './useSignaling';

export interface Ban {
  /** When the ban ends; null when the server's timestamp could not be read. */
  until: Date | null;
  /** The moderator's words, shown as they are. */
  reason: string;
}

/** A banned message as the page shows it. */
export function toBan(data: BannedData): Ban {
  const until = new Date(data.until);
  return { until: Number.isNaN(until.getTime()) ? null : until, reason: data.reason };
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
        if (message.event === 'banned') setBan(toBan(message.data));
      }),
    [subscribe],
  );
  if (ban) return ban;
  return status === 'banned' ? { until: null, reason: '' } : null;
}
