import { useCallback, useEffect, useRef, useState } from 'react';

/** What the banned user sees of its ban and appeal (GET /api/appeal). */
export interface OwnAppeal {
  /** RFC 3339. */
  until: string;
  reason: string;
  state: 'none' | 'open' | 'upheld' | (string & {});
  /** The appeal as sent. */
  text?: string;
  /** What the report a moderator banned on carried about this user: its own still and lines. */
  report?: { reason: string; frame?: string; lines: string[] };
}

/**
 * loading; ready (the appeal's state); sending an appeal; gone (no ban in force
 * for the token: it ended or was lifted); error (rate_limited, or failed: the
 * store or the network; the text typed is kept).
 */
export type AppealView =
  | { phase: 'loading' }
  | { phase: 'ready'; appeal: OwnAppeal }
  | { phase: 'sending'; appeal: OwnAppeal }
  | { phase: 'gone' }
  | { phase: 'error'; error: 'rate_limited' | 'failed'; appeal?: OwnAppeal };

// The token lives in localStorage with the end of its ban: the ban page after a reload (or the
// next day) can still appeal, and the token is forgotten once its ban is over or lifted. It
// shows only this user's own evidence, and only while the ban is in force.
const STORAGE_KEY = 'gomegle.appeal';

function store(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The kept token and the end of its ban, or null. */
function kept(storage: Storage | null): { token: string; until: unknown } | null {
  try {
    const k = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null') as { token?: unknown; until?: unknown } | null;
    return typeof k?.token === 'string' ? { token: k.token, until: k.until } : null;
  } catch {
    return null;
  }
}

/** The kept token of the ban that ends at until (the banned event's), or null. */
export function readAppealToken(until: string, storage: Storage | null = store()): string | null {
  const k = kept(storage);
  return k && k.until === until ? k.token : null;
}

/** The kept token, whatever its ban: another tab may have claimed a newer one for this ban. */
function keptAppealToken(storage: Storage | null = store()): string | null {
  return kept(storage)?.token ?? null;
}

export function keepAppealToken(token: string | null, until = '', storage: Storage | null = store()): void {
  try {
    if (token) storage?.setItem(STORAGE_KEY, JSON.stringify({ token, until }));
    else storage?.removeItem(STORAGE_KEY);
  } catch {
    // not kept: this page can still appeal until it is reloaded
  }
}

// The identities this browser's pages had (hello's id and appeal_key), newest first: a ban a
// moderator makes after the page is gone is claimed with them. At most MAX_KEYS, none older
// than the longest ban; they stay in this browser, and are sent only from a ban page.
const KEYS_KEY = 'gomegle.appealKeys';
const MAX_KEYS = 20;
const KEEP_MS = 30 * 24 * 3600 * 1000;

interface KeptKey {
  id: string;
  key: string;
  at: number;
}

export function appealKeys(storage: Storage | null = store(), now = Date.now()): KeptKey[] {
  try {
    const kept = JSON.parse(storage?.getItem(KEYS_KEY) ?? '[]') as unknown;
    if (!Array.isArray(kept)) return [];
    return kept.filter(
      (k): k is KeptKey => typeof k?.id === 'string' && typeof k?.key === 'string' && typeof k?.at === 'number' && now - k.at < KEEP_MS,
    );
  } catch {
    return [];
  }
}

export function rememberAppealKey(id: string, key: string, storage: Storage | null = store(), now = Date.now()): void {
  const keys = [{ id, key, at: now }, ...appealKeys(storage, now).filter((k) => k.id !== id)].slice(0, MAX_KEYS);
  try {
    storage?.setItem(KEYS_KEY, JSON.stringify(keys));
  } catch {
    // not kept: a ban made after this page is gone cannot be appealed from here
  }
}

/**
 * Claims the appeal of a ban made on one of this browser's recent identities, after its page
 * was gone: the token (kept with its ban's end), null when there is none, or throws.
 */
export async function claimAppeal(): Promise<string | null> {
  const keys = appealKeys().map(({ id, key }) => ({ id, key }));
  if (keys.length === 0) return null;
  const response = await fetch('/api/appeal/claim', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ keys }),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const { appeal, until } = (await response.json()) as { appeal: string; until: string };
  keepAppealToken(appeal, until);
  return appeal;
}

async function request(token: string, init: RequestInit = {}): Promise<Response> {
  return fetch('/api/appeal', {
    ...init,
    headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}`, Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

/** The banned user's appeal: loads it, sends it (once), and checks again on request. */
export function useAppeal(given: string): { view: AppealView; send: (text: string) => void; check: () => void } {
  const [view, setView] = useState<AppealView>({ phase: 'loading' });
  // A claim (another tab of this browser, AppealClaim) replaces the ban's token: the newer one,
  // kept in localStorage, takes over from a refused one.
  const [token, setToken] = useState(given);
  const live = useRef(true);
  const appealOf = (v: AppealView) => ('appeal' in v ? v.appeal : undefined);

  const load = useCallback(async () => {
    try {
      const response = await request(token);
      if (!live.current) return;
      if (response.status === 404) {
        const newer = keptAppealToken();
        if (newer && newer !== token) return setToken(newer); // and load again with it
        keepAppealToken(null);
        setView({ phase: 'gone' });
      } else if (response.ok) {
        setView({ phase: 'ready', appeal: (await response.json()) as OwnAppeal });
      } else {
        setView((v) => ({ phase: 'error', error: response.status === 429 ? 'rate_limited' : 'failed', appeal: appealOf(v) }));
      }
    } catch {
      if (live.current) setView((v) => ({ phase: 'error', error: 'failed', appeal: appealOf(v) }));
    }
  }, [token]);

  useEffect(() => {
    live.current = true;
    void load();
    return () => {
      live.current = false;
    };
  }, [load]);

  const send = useCallback(
    (text: string) => {
      setView((v) => {
        const appeal = appealOf(v);
        return appeal ? { phase: 'sending', appeal } : v;
      });
      void (async () => {
        try {
          const response = await request(token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) });
          if (!live.current) return;
          // sent, or sent before (409): either way the server's state is what to show
          if (response.ok || response.status === 409 || response.status === 404) return void load();
          setView((v) => ({ phase: 'error', error: response.status === 429 ? 'rate_limited' : 'failed', appeal: appealOf(v) }));
        } catch {
          if (live.current) setView((v) => ({ phase: 'error', error: 'failed', appeal: appealOf(v) }));
        }
      })();
    },
    [token, load],
  );

  return { view, send, check: () => void load() };
}
