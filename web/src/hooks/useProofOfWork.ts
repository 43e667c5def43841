import { useCallback, useEffect, useRef, useState } from 'react';
import type { ClientMessage, PowChallenge } from '../protocol';
import { solveInWorker, type PowSolver } from '../pow/solve';
import type { MessageHandler, Signaling } from './useSignaling';

type FindMatch = Extract<ClientMessage, { event: 'find_match' }>;

export interface ProofOfWorkOptions {
  /** Solves one challenge (default: altcha-lib in a Web Worker; tests pass a fake). */
  solve?: PowSolver;
}

/**
 * What the page knows about this connection's proof of work: unknown until its
 * hello; then none needed (no hello.pow: the gate is off, or the connection
 * resumed), a challenge being solved, or a solution ready for the next find_match.
 */
interface Gate {
  /** Bumped by every hello: a solution for an older connection is worthless. */
  connection: number;
  hello: boolean;
  /** This connection still has to open the gate. */
  needed: boolean;
  /** The payload for find_match.pow, once solved. */
  solution: string | null;
  /** The find_match waiting for the solution (the latest one asked for). */
  pending: FindMatch | null;
  /** The last find_match sent on this connection: resent if the server wants another solution. */
  sent: FindMatch | null;
  abort: AbortController | null;
  /** pow_required answers in a row; past MAX_REFUSALS the page stops trying and says so. */
  refusals: number;
}

/** pow_required answers in a row after which the error is the user's to see (something is broken). */
const MAX_REFUSALS = 3;

/**
 * A solve that has taken this long shows its progress: only an address opening many
 * connections gets a challenge that takes so long (README: POW_FREE_RATE); a person's
 * takes about 0.4 s and shows nothing.
 */
export const POW_SLOW_MS = 2_000;

/** The signaling the match uses, and how far a slow proof of work has got. */
export interface GatedSignaling extends Signaling {
  /** The part of the range a slow solve has tried (0 to 1); null when none is slow. */
  powProgress: number | null;
}

/**
 * The proof-of-work gate (README: Wire protocol): solves hello.pow in a worker as
 * soon as hello arrives, before Start, and puts the solution in the connection's
 * first find_match. A find_match asked for before the solution is ready waits for
 * it (the page already shows "Looking for someone…"). A pow_required error (a
 * missing, wrong, expired or replayed solution) brings a fresh challenge: it is
 * solved and the last find_match sent again, and nobody else hears of it.
 *
 * Returns the signaling the match uses: the same socket, with find_match gated.
 */
export function useProofOfWork(signaling: Signaling, options: ProofOfWorkOptions = {}): GatedSignaling {
  const { send: sendRaw, subscribe: subscribeRaw, status } = signaling;
  const solveRef = useRef<PowSolver>(options.solve ?? solveInWorker);
  solveRef.current = options.solve ?? solveInWorker;
  const gateRef = useRef<Gate>({ connection: 0, hello: false, needed: false, solution: null, pending: null, sent: null, abort: null, refusals: 0 });
  const handlersRef = useRef(new Set<MessageHandler>());
  const [powProgress, setPowProgress] = useState<number | null>(null);

  const sendFind = useCallback(
    (message: FindMatch) => {
      const gate = gateRef.current;
      if (gate.needed && gate.solution) {
        sendRaw({ event: 'find_match', data: { ...message.data, pow: gate.solution } });
        gate.needed = false;
        gate.solution = null;
      } else {
        sendRaw(message);
      }
      gate.sent = message;
    },
    [sendRaw],
  );

  const solve = useCallback(
    (challenge: PowChallenge) => {
      const gate = gateRef.current;
      gate.abort?.abort();
      const abort = new AbortController();
      gate.abort = abort;
      gate.needed = true;
      gate.solution = null;
      const connection = gate.connection;
      const began = performance.now();
      setPowProgress(null);
      const onProgress = (checked: number) => {
        if (!abort.signal.aborted && performance.now() - began >= POW_SLOW_MS) setPowProgress(checked);
      };
      solveRef.current(challenge, abort.signal, onProgress).then(
        (payload) => {
          if (abort.signal.aborted || gate.connection !== connection) return;
          setPowProgress(null);
          gate.abort = null;
          gate.solution = payload;
          const waiting = gate.pending;
          gate.pending = null;
          if (waiting) sendFind(waiting);
        },
        (error: unknown) => {
          if (abort.signal.aborted) return;
          setPowProgress(null);
          gate.abort = null;
          // Without a solution the find_match goes as it is: the server answers
          // pow_required with a fresh challenge, which is tried next.
          console.warn('proof of work not solved', error);
          const waiting = gate.pending;
          gate.pending = null;
          gate.needed = false;
          if (waiting && gate.connection === connection) sendFind(waiting);
        },
      );
    },
    [sendFind],
  );

  // A lost socket: whatever is asked for now waits for the next connection's hello
  // (useSignaling would otherwise send it before that hello, without a solution).
  useEffect(() => {
    if (status !== 'open') gateRef.current.hello = false;
  }, [status]);

  useEffect(() => {
    const unsubscribe = subscribeRaw((message) => {
      const gate = gateRef.current;
      if (message.event === 'waiting' || message.event === 'match_found') {
        gate.refusals = 0; // through the gate
      } else if (message.event === 'hello') {
        gate.connection += 1;
        gate.hello = true;
        gate.refusals = 0;
        gate.sent = null;
        gate.abort?.abort();
        gate.abort = null;
        gate.solution = null;
        gate.needed = false;
        setPowProgress(null);
        if (message.data.pow) solve(message.data.pow);
        else if (gate.pending) {
          const waiting = gate.pending;
          gate.pending = null;
          sendFind(waiting);
        }
      } else if (message.event === 'error' && message.data.code === 'pow_required' && message.data.pow && gate.refusals < MAX_REFUSALS) {
        // The page's own business: solve the fresh challenge, then ask again.
        gate.refusals += 1;
        gate.pending = gate.pending ?? gate.sent;
        solve(message.data.pow);
        return;
      }
      for (const handler of [...handlersRef.current]) handler(message);
    });
    return () => {
      unsubscribe();
      gateRef.current.abort?.abort();
      gateRef.current.abort = null;
    };
  }, [subscribeRaw, solve, sendFind]);

  const send = useCallback(
    (message: ClientMessage) => {
      const gate = gateRef.current;
      if (message.event === 'find_match') {
        // Before this connection's hello nobody knows whether it needs a solution.
        if (!gate.hello || (gate.needed && !gate.solution)) {
          gate.pending = message;
          return;
        }
        sendFind(message);
        return;
      }
      if (message.event === 'leave') {
        // A search that never went out has nothing to leave; the leave goes anyway (harmless).
        gate.pending = null;
        gate.sent = null;
      }
      sendRaw(message);
    },
    [sendFind, sendRaw],
  );

  const subscribe = useCallback((handler: MessageHandler) => {
    const handlers = handlersRef.current;
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
    };
  }, []);

  return { status, send, subscribe, powProgress };
}
