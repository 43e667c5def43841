import { useEffect, useRef, useState } from 'react';
import type { MatchInfo } from '../protocol';
import type { Signaling } from './useSignaling';
import type { PeerConnection } from './usePeerConnection';

/**
 * none: no video call; connecting: waiting for the first connection;
 * connected; recovering: it was connected and failed, an ICE restart may bring
 * it back; failed: given up (the page says so and offers Next; text chat goes on).
 */
export type CallStatus = 'none' | 'connecting' | 'connected' | 'recovering' | 'failed';

export interface CallTimeouts {
  /** From match_found to connected, at most. */
  setupMs: number;
  /** From failed to connected again (an ICE restart), at most. */
  recoveryMs: number;
}

export const defaultCallTimeouts: CallTimeouts = { setupMs: 15_000, recoveryMs: 10_000 };

export interface CallOutcomeOptions {
  signaling: Pick<Signaling, 'send'>;
  /** The current match; only video matches are watched. */
  match: MatchInfo | null;
  peer: Pick<PeerConnection, 'connectionState' | 'localCandidateType'>;
  timeouts?: Partial<CallTimeouts>;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

interface Watch {
  matchID: string;
  startedAt: number;
  reported: boolean;
  everConnected: boolean;
  /** When the connection last went to failed (the recovery deadline counts from it); null when not failed. */
  failedAt: number | null;
}

/**
 * Watches one video match's peer connection: gives up on it when it does not
 * connect in time (or does not recover from a failure in time), and reports
 * the outcome to the server once per match as rtc_stats.
 */
export function useCallOutcome(options: CallOutcomeOptions): CallStatus {
  const { signaling, match, peer, timeouts, now = Date.now } = options;
  const { send } = signaling;
  const setupMs = timeouts?.setupMs ?? defaultCallTimeouts.setupMs;
  const recoveryMs = timeouts?.recoveryMs ?? defaultCallTimeouts.recoveryMs;
  const matchID = match && match.mode === 'video' ? match.match_id : null;
  const { connectionState, localCandidateType } = peer;
  const [status, setStatus] = useState<CallStatus>('none');
  const watchRef = useRef<Watch | null>(null);

  // Read by the effects without re-running them.
  const nowRef = useRef(now);
  const candidateRef = useRef(localCandidateType);
  nowRef.current = now;
  candidateRef.current = localCandidateType;

  const giveUpRef = useRef<(watch: Watch) => void>(() => {});
  giveUpRef.current = (watch: Watch) => {
    if (watchRef.current !== watch) return;
    setStatus('failed');
    if (watch.reported) return;
    watch.reported = true;
    send({ event: 'rtc_stats', data: { outcome: 'failed', setup_ms: Math.max(0, Math.round(nowRef.current() - watch.startedAt)) } });
  };

  // A new video match: start its clock (once: StrictMode re-runs this effect).
  useEffect(() => {
    if (!matchID) {
      watchRef.current = null;
      setStatus('none');
      return;
    }
    if (watchRef.current?.matchID !== matchID) {
      watchRef.current = { matchID, startedAt: nowRef.current(), reported: false, everConnected: false, failedAt: null };
      setStatus('connecting');
    }
  }, [matchID]);

  // The deadline that applies now: setup (never connected yet) or recovery (failed after that).
  useEffect(() => {
    const watch = watchRef.current;
    if (!matchID || !watch || watch.matchID !== matchID) return;
    if (connectionState === 'connected') {
      watch.everConnected = true;
      watch.failedAt = null;
      setStatus('connected');
      if (!watch.reported) {
        watch.reported = true;
        const elapsed = Math.max(0, Math.round(nowRef.current() - watch.startedAt));
        // Sent even if the match ends before getStats answers: it is this call's outcome.
        void candidateRef.current().then((candidate) => {
          send({ event: 'rtc_stats', data: { outcome: 'connected', setup_ms: elapsed, ...(candidate ? { candidate } : {}) } });
        });
      }
      return;
    }
    const at = nowRef.current();
    if (connectionState === 'failed' && watch.failedAt === null) watch.failedAt = at;
    const deadlines: number[] = [];
    if (!watch.everConnected) deadlines.push(watch.startedAt + setupMs);
    if (watch.failedAt !== null) deadlines.push(watch.failedAt + recoveryMs);
    // Connected before and only disconnected (not failed): ICE may heal by itself.
    if (deadlines.length === 0) return;
    if (watch.everConnected) setStatus((current) => (current === 'failed' ? current : 'recovering'));
    const timer = setTimeout(() => giveUpRef.current(watch), Math.max(0, Math.min(...deadlines) - at));
    return () => clearTimeout(timer);
  }, [matchID, connectionState, setupMs, recoveryMs, send]);

  return status;
}

/** The test hook's timeouts (window.goMegleTest, set only by browser tests), clamped to sane bounds. */
export function callTimeoutsFrom(config: unknown): Partial<CallTimeouts> {
  if (typeof config !== 'object' || config === null) return {};
  const { callSetupMs, callRecoveryMs } = config as { callSetupMs?: unknown; callRecoveryMs?: unknown };
  const clamp = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) ? Math.min(60_000, Math.max(500, value)) : undefined;
  const result: Partial<CallTimeouts> = {};
  const setup = clamp(callSetupMs);
  const recovery = clamp(callRecoveryMs);
  if (setup !== undefined) result.setupMs = setup;
  if (recovery !== undefined) result.recoveryMs = recovery;
  return result;
}
