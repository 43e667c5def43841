import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ModAPIError,
  modAPI,
  readToken,
  storeToken,
  type BanDuration,
  type BanQuery,
  type ModAPI,
  type ModBan,
  type ModErrorKind,
  type ModReport,
  type BanPage,
  type ReportPage,
  type ReporterLoad,
  type RestrictDuration,
} from './api';

/**
 * signed_out: asking for the token; loading: the lists are on their way;
 * ready: signed in, lists shown; disabled: this server has no moderator console.
 */
export type ConsolePhase = 'signed_out' | 'loading' | 'ready' | 'disabled';

/** What the last action did, or why it did not. */
export type ConsoleMessage =
  | { kind: 'banned'; until: string }
  | { kind: 'dismissed' }
  | { kind: 'reporter_dismissed'; count: number; until: string }
  | { kind: 'lifted' }
  | { kind: 'error'; error: Exclude<ModErrorKind, 'unauthorized' | 'disabled'> };

/** The bans a moderator looks for: of a source, with a text in their reason (or their id). */
export type BanFilter = Required<Omit<BanQuery, 'after'>>;

export interface ModConsole {
  phase: ConsolePhase;
  /** The last token tried was refused (401). */
  wrongToken: boolean;
  /** The reporter whose reports alone are shown, or null for all. */
  reporter: string | null;
  reports: ModReport[];
  /** Open reports in all (or the reporter's), of which reports holds the newest pages. */
  total: number;
  /** There are older reports to load. */
  more: boolean;
  /** The reporters with the most open reports. */
  topReporters: ReporterLoad[];
  bans: ModBan[];
  /** Bans in force in all. */
  bansTotal: number;
  /** There are more bans (of the filter) to load. */
  moreBans: boolean;
  banFilter: BanFilter;
  /** The id of the report, reporter or ban an action is running on. */
  busy: string | null;
  message: ConsoleMessage | null;
  signIn: (token: string) => void;
  signOut: () => void;
  refresh: () => void;
  /** Loads the next page of older reports. */
  loadOlder: () => void;
  /** Shows only one reporter's reports (null: everyone's). */
  showReporter: (reporter: string | null) => void;
  ban: (reportID: string, duration: BanDuration, reason: string) => void;
  dismiss: (reportID: string) => void;
  /** Dismisses every open report of a reporter, and restricts it for a while. */
  dismissReporter: (reporter: string, restrict: RestrictDuration) => void;
  /** Lists the bans of a filter, from the first. */
  findBans: (filter: BanFilter) => void;
  /** Loads the next page of bans. */
  loadMoreBans: () => void;
  lift: (banID: string) => void;
  /** The API of the token signed in with (null while signed out): the appeals queue's. */
  api: ModAPI | null;
}

export interface ModConsoleOptions {
  /** The API for a token (tests pass a fake). */
  api?: (token: string) => ModAPI;
  /** Where the token is kept (sessionStorage; tests pass their own). */
  storage?: Storage | null;
}

const everyBan: BanFilter = { source: '', q: '' };

/**
 * The moderator console's state: the token (in sessionStorage only), the open
 * reports (everyone's or one reporter's), the busiest reporters, the bans in
 * force a page at a time, and the actions on them. A 401 anywhere forgets the
 * token and asks again.
 */
export function useModConsole(options: ModConsoleOptions = {}): ModConsole {
  const { api: makeAPI = modAPI, storage } = options;
  const [token, setToken] = useState<string | null>(() => readToken(storage));
  const [phase, setPhase] = useState<ConsolePhase>(() => (token ? 'loading' : 'signed_out'));
  const [wrongToken, setWrongToken] = useState(false);
  const [reporter, setReporter] = useState<string | null>(null);
  const [reports, setReports] = useState<ModReport[]>([]);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState('');
  const [topReporters, setTopReporters] = useState<ReporterLoad[]>([]);
  const [bans, setBans] = useState<ModBan[]>([]);
  const [bansTotal, setBansTotal] = useState(0);
  const [bansNext, setBansNext] = useState('');
  const [banFilter, setBanFilter] = useState<BanFilter>(everyBan);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<ConsoleMessage | null>(null);
  // Answers to requests made under an earlier token (or before a sign-out) are dropped.
  const generationRef = useRef(0);
  const apiRef = useRef<ModAPI | null>(null);
  const [api, setAPI] = useState<ModAPI | null>(null);
  const makeAPIRef = useRef(makeAPI);
  makeAPIRef.current = makeAPI;
  // What load asks for: the current filters, without making load change with them.
  const filtersRef = useRef({ reporter, banFilter });
  filtersRef.current = { reporter, banFilter };

  const clear = useCallback(() => {
    setReports([]);
    setBans([]);
    setTopReporters([]);
    setReporter(null);
    setMessage(null);
  }, []);

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
        clear();
      } else if (kind === 'disabled') {
        setPhase('disabled');
      } else {
        setPhase((current) => (current === 'loading' ? 'ready' : current));
        setMessage({ kind: 'error', error: kind });
      }
      if (!(error instanceof ModAPIError)) console.warn('moderator API', error);
    },
    [storage, clear],
  );

  /** Shows a page of reports: in place of the list, or after it (older ones). */
  const showReports = useCallback((page: ReportPage, after = false) => {
    setReports((list) => (after ? [...list, ...page.reports.filter((report) => !list.some((have) => have.id === report.id))] : page.reports));
    setTotal(page.total);
    setNext(page.next);
  }, []);

  /** Shows a page of bans: in place of the list, or after it. */
  const showBans = useCallback((page: BanPage, after = false) => {
    setBans((list) => (after ? [...list, ...page.bans.filter((ban) => !list.some((have) => have.id === ban.id))] : page.bans));
    setBansTotal(page.total);
    setBansNext(page.next);
  }, []);

  /** Asks the API for something and shows it, unless the token changed meanwhile. */
  const fetchThen = useCallback(
    <T>(request: (api: ModAPI) => Promise<T>, show: (value: T) => void) => {
      const api = apiRef.current;
      if (!api) return;
      const generation = generationRef.current;
      request(api)
        .then((value) => {
          if (generation === generationRef.current) show(value);
        })
        .catch((error: unknown) => fail(error, generation));
    },
    [fail],
  );

  const load = useCallback(
    async (api: ModAPI, generation: number) => {
      const { reporter: only, banFilter: filter } = filtersRef.current;
      try {
        const [page, banPage, top] = await Promise.all([api.reportPage(undefined, only ?? undefined), api.banPage(filter), api.reporters()]);
        if (generation !== generationRef.current) return;
        showReports(page);
        showBans(banPage);
        setTopReporters(top);
        setWrongToken(false);
        setPhase('ready');
        return true;
      } catch (error) {
        fail(error, generation);
        return false;
      }
    },
    [fail, showReports, showBans],
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
      setAPI(null);
      return;
    }
    const api = makeAPIRef.current(token);
    apiRef.current = api;
    setAPI(api);
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
    clear();
    setPhase('signed_out');
  }, [storage, clear]);

  const refresh = useCallback(() => {
    const api = apiRef.current;
    if (!api) return;
    setMessage(null);
    void load(api, generationRef.current);
  }, [load]);

  const loadOlder = useCallback(() => {
    if (next) fetchThen((api) => api.reportPage(next, reporter ?? undefined), (page) => showReports(page, true));
  }, [next, reporter, fetchThen, showReports]);

  const showReporter = useCallback(
    (only: string | null) => {
      setReporter(only);
      setMessage(null);
      fetchThen((api) => api.reportPage(undefined, only ?? undefined), (page) => showReports(page));
    },
    [fetchThen, showReports],
  );

  const findBans = useCallback(
    (filter: BanFilter) => {
      setBanFilter(filter);
      fetchThen((api) => api.banPage(filter), (page) => showBans(page));
    },
    [fetchThen, showBans],
  );

  const loadMoreBans = useCallback(() => {
    if (bansNext) fetchThen((api) => api.banPage({ ...banFilter, after: bansNext }), (page) => showBans(page, true));
  }, [bansNext, banFilter, fetchThen, showBans]);

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

  /** A report is gone from the lists (banned or dismissed). */
  const removeReport = useCallback((report: ModReport | undefined) => {
    if (!report) return;
    setReports((list) => list.filter((item) => item.id !== report.id));
    setTotal((n) => Math.max(0, n - 1));
    setTopReporters((list) =>
      list.map((item) => (item.reporter === report.reporter ? { ...item, reports: item.reports - 1 } : item)).filter((item) => item.reports > 0),
    );
  }, []);

  const ban = useCallback(
    (reportID: string, duration: BanDuration, reason: string) => {
      let created: ModBan | null = null;
      const report = reports.find((item) => item.id === reportID);
      void act(
        reportID,
        async (api) => {
          created = await api.ban(reportID, duration, reason);
          return { kind: 'banned', until: created.until };
        },
        () => {
          removeReport(report);
          const added = created;
          if (added) {
            setBans((list) => [added, ...list.filter((item) => item.id !== added.id)]);
            setBansTotal((n) => n + 1);
          }
        },
      );
    },
    [act, reports, removeReport],
  );

  const dismiss = useCallback(
    (reportID: string) => {
      const report = reports.find((item) => item.id === reportID);
      void act(
        reportID,
        async (api) => {
          await api.dismiss(reportID);
          return { kind: 'dismissed' };
        },
        () => removeReport(report),
      );
    },
    [act, reports, removeReport],
  );

  const dismissReporter = useCallback(
    (label: string, restrict: RestrictDuration) => {
      void act(
        label,
        async (api) => {
          const done = await api.dismissReporter(label, restrict);
          return { kind: 'reporter_dismissed', count: done.dismissed, until: done.restrictedUntil };
        },
        () => {
          setReports((list) => list.filter((item) => item.reporter !== label));
          setTopReporters((list) => list.filter((item) => item.reporter !== label));
          // everyone's reports again, with the right counts
          setReporter(null);
          filtersRef.current = { ...filtersRef.current, reporter: null };
          const api = apiRef.current;
          if (api) void load(api, generationRef.current);
        },
      );
    },
    [act, load],
  );

  const lift = useCallback(
    (banID: string) => {
      void act(
        banID,
        async (api) => {
          await api.lift(banID);
          return { kind: 'lifted' };
        },
        () => {
          setBans((list) => list.filter((item) => item.id !== banID));
          setBansTotal((n) => Math.max(0, n - 1));
        },
      );
    },
    [act],
  );

  return {
    phase,
    wrongToken,
    reporter,
    reports,
    total,
    more: next !== '',
    topReporters,
    bans,
    bansTotal,
    moreBans: bansNext !== '',
    banFilter,
    busy,
    message,
    signIn,
    signOut,
    refresh,
    loadOlder,
    showReporter,
    ban,
    dismiss,
    dismissReporter,
    findBans,
    loadMoreBans,
    lift,
    api,
  };
}
