import { useCallback, useEffect, useRef, useState } from 'react';
import { ModAPIError, modAPI, readToken, storeToken, type BanDuration, type ModAPI, type ModBan, type ModErrorKind, type ModReport } from './api';

/**
 * signed_out: asking for the token; loading: the lists are on their way;
 * ready: signed in, lists shown; disabled: this server has no moderator console.
 */
export type ConsolePhase = 'signed_out' | 'loading' | 'ready' | 'disabled';

/** What the last action did, or why it did not. */
export type ConsoleMessage =
  | { kind: 'banned'; until: string }
  | { kind: 'dismissed' }
  | { kind: 'lifted' }
  | { kind: 'error'; error: Exclude<ModErrorKind, 'unauthorized' | 'disabled'> };

export interface ModConsole {
  phase: ConsolePhase;
  /** The last token tried was refused (401). */
  wrongToken: boolean;
  reports: ModReport[];
  /** Open reports in all, of which reports holds the newest pages. */
  total: number;
  /** There are older reports to load. */
  more: boolean;
  bans: ModBan[];
  /** The id of the report or ban an action is running on. */
  busy: string | null;
  message: ConsoleMessage | null;
  signIn: (token: string) => void;
  signOut: () => void;
  refresh: () => void;
  /** Loads the next page of older reports. */
  loadOlder: () => void;
  ban: (reportID: string, duration: BanDuration, reason: string) => void;
  dismiss: (reportID: string) => void;
  lift: (banID: string) => void;
}

export interface ModConsoleOptions {
  /** The API for a token (tests pass a fake). */
  api?: (token: string) => ModAPI;
  /** Where the token is kept (sessionStorage; tests pass their own). */
  storage?: Storage | null;
}

/**
 * The moderator console's state: the token (in sessionStorage only), the open
 * reports and the active bans, and the actions on them. A 401 anywhere forgets
 * the token and asks again.
 */
export function useModConsole(options: ModConsoleOptions = {}): ModConsole {
  const { api: makeAPI = modAPI, storage } = options;
  const [token, setToken] = useState<string | null>(() => readToken(storage));
  const [phase, setPhase] = useState<ConsolePhase>(() => (token ? 'loading' : 'signed_out'));
  const [wrongToken, setWrongToken] = useState(false);
  const [reports, setReports] = useState<ModReport[]>([]);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState(0);
  const [bans, setBans] = useState<ModBan[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<ConsoleMessage | null>(null);
  // Answers to requests made under an earlier token (or before a sign-out) are dropped.
  const generationRef = useRef(0);
  const apiRef = useRef<ModAPI | null>(null);
  const makeAPIRef = useRef(makeAPI);
  makeAPIRef.current = makeAPI;

  const fail = useCallback(
    (error: unknown, generation: number) => {
      if (generation !== generationRef.current) return;
      const kind: ModErrorKind = error instanceof ModAPIError ? error.kind : 'failed';
      if (kind === 'unauthorized') {
        generationRef.current += 1;
        storeToken(null, storage);
        setToken(null);
        setWrongToken(true);
        setPhase('signed_out');
        setReports([]);
        setBans([]);
        setMessage(null);
      } else if (kind === 'disabled') {
        setPhase('disabled');
      } else {
        setPhase((current) => (current === 'loading' ? 'ready' : current));
        setMessage({ kind: 'error', error: kind });
      }
      if (!(error instanceof ModAPIError)) console.warn('moderator API', error);
    },
    [storage],
  );

  const load = useCallback(
    async (api: ModAPI, generation: number) => {
      try {
        const [page, activeBans] = await Promise.all([api.reportPage(), api.bans()]);
        if (generation !== generationRef.current) return;
        setReports(page.reports);
        setTotal(page.total);
        setNext(page.next);
        setBans(activeBans);
        setWrongToken(false);
        setPhase('ready');
        return true;
      } catch (error) {
        fail(error, generation);
        return false;
      }
    },
    [fail],
  );

  // Signed out: one request without a token tells a server without a console
  // (404) from one asking for the token (401), so the page says which at once.
  useEffect(() => {
    if (token) return;
    let current = true;
    makeAPIRef.current('')
      .reports()
      .catch((error: unknown) => {
        if (current && error instanceof ModAPIError && error.kind === 'disabled') setPhase('disabled');
      });
    return () => {
      current = false;
    };
  }, [token]);

  useEffect(() => {
    if (!token) {
      apiRef.current = null;
      return;
    }
    const api = makeAPIRef.current(token);
    apiRef.current = api;
    const generation = ++generationRef.current;
    setPhase('loading');
    void load(api, generation).then((ok) => {
      if (ok) storeToken(token, storage); // kept only once the server took it
    });
  }, [token, load, storage]);

  const signIn = useCallback((value: string) => {
    const trimmed = value.trim();
    if (!trimmed) return;
    setMessage(null);
    setToken(trimmed);
  }, []);

  const signOut = useCallback(() => {
    generationRef.current += 1;
    storeToken(null, storage);
    setToken(null);
    setWrongToken(false);
    setReports([]);
    setBans([]);
    setMessage(null);
    setPhase('signed_out');
  }, [storage]);

  const refresh = useCallback(() => {
    const api = apiRef.current;
    if (!api) return;
    setMessage(null);
    void load(api, generationRef.current);
  }, [load]);

  const loadOlder = useCallback(() => {
    const api = apiRef.current;
    if (!api || !next) return;
    const generation = generationRef.current;
    api
      .reportPage(next)
      .then((page) => {
        if (generation !== generationRef.current) return;
        setReports((list) => [...list, ...page.reports.filter((report) => !list.some((have) => have.id === report.id))]);
        setTotal(page.total);
        setNext(page.next);
      })
      .catch((error: unknown) => fail(error, generation));
  }, [next, fail]);

  /** Runs one action on a record; gone (404) means the lists are stale: reload them. */
  const act = useCallback(
    async (id: string, action: (api: ModAPI) => Promise<ConsoleMessage>, done: () => void) => {
      const api = apiRef.current;
      if (!api) return;
      const generation = generationRef.current;
      setBusy(id);
      setMessage(null);
      try {
        const result = await action(api);
        if (generation !== generationRef.current) return;
        done();
        setMessage(result);
      } catch (error) {
        fail(error, generation);
        if (error instanceof ModAPIError && error.kind === 'not_found' && generation === generationRef.current) void load(api, generation);
      } finally {
        setBusy((current) => (current === id ? null : current));
      }
    },
    [fail, load],
  );

  const ban = useCallback(
    (reportID: string, duration: BanDuration, reason: string) => {
      let created: ModBan | null = null;
      void act(
        reportID,
        async (api) => {
          created = await api.ban(reportID, duration, reason);
          return { kind: 'banned', until: created.until };
        },
        () => {
          setReports((list) => list.filter((report) => report.id !== reportID));
          setTotal((n) => Math.max(0, n - 1));
          const added = created;
          if (added) setBans((list) => [added, ...list.filter((item) => item.id !== added.id)]);
        },
      );
    },
    [act],
  );

  const dismiss = useCallback(
    (reportID: string) => {
      void act(
        reportID,
        async (api) => {
          await api.dismiss(reportID);
          return { kind: 'dismissed' };
        },
        () => {
          setReports((list) => list.filter((report) => report.id !== reportID));
          setTotal((n) => Math.max(0, n - 1));
        },
      );
    },
    [act],
  );

  const lift = useCallback(
    (banID: string) => {
      void act(
        banID,
        async (api) => {
          await api.lift(banID);
          return { kind: 'lifted' };
        },
        () => setBans((list) => list.filter((item) => item.id !== banID)),
      );
    },
    [act],
  );

  return { phase, wrongToken, reports, total, more: next > 0, bans, busy, message, signIn, signOut, refresh, loadOlder, ban, dismiss, lift };
}
