import { useCallback, useEffect, useRef, useState } from 'react';
import { CLOSE_BANNED, CLOSE_REPLACED, parseServerMessage, type ClientMessage, type ServerMessage } from '../protocol';

/**
 * idle: not started; connecting: first attempt; open: socket usable;
 * reconnecting: lost the socket, retrying with backoff (and the resume token);
 * replaced: the identity was resumed on a newer connection (close 4001), which now owns it;
 * banned: the server said banned and closed (4003); a reconnect would only be refused again.
 */
export type SignalingStatus = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'replaced' | 'banned';

export type MessageHandler = (message: ServerMessage) => void;

export interface Signaling {
  status: SignalingStatus;
  /** Sends now, or queues until the socket is open (the queue survives a reconnect). */
  send: (message: ClientMessage) => void;
  /** Every server message, in order, synchronously as it arrives. Returns the unsubscribe. */
  subscribe: (handler: MessageHandler) => () => void;
}

export interface SignalingOptions {
  /** Base URL of the socket; default ws(s)://<location host>/ws. */
  url?: string;
  /** First retry delay; doubled up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** The socket URL for this page: wss on https, ws on http, same host. */
export function socketURL(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** Exponential backoff with jitter: base·2^attempt, capped, ±25 %. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(exp * (0.75 + random() * 0.5));
}

const OUTBOX_LIMIT = 50;
// Closing with 1000 tells the server the user meant it: the match ends at once
// instead of being held for a resume (README: failure model).
const NORMAL_CLOSURE = 1000;

/**
 * Owns the one WebSocket of the page: connects on mount, reconnects with
 * backoff after any close it did not ask for, and resumes the identity (and
 * match) with the last resume_token. Knows nothing of matches or media.
 */
export function useSignaling(options: SignalingOptions = {}): Signaling {
  const { url, baseDelayMs = 500, maxDelayMs = 5_000 } = options;
  const [status, setStatus] = useState<SignalingStatus>('connecting');
  const socketRef = useRef<WebSocket | null>(null);
  const handlersRef = useRef(new Set<MessageHandler>());
  const outboxRef = useRef<string[]>([]);

  useEffect(() => {
    const base = url ?? socketURL(window.location);
    const lifetime = new AbortController();
    let resumeToken = '';
    let attempt = 0;
    // Set by the banned message, so a close that lost its 4003 (1006) does not reconnect either.
    let banned = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;

    const connect = () => {
      const target = resumeToken ? `${base}?resume=${encodeURIComponent(resumeToken)}` : base;
      const socket = new WebSocket(target);
      socketRef.current = socket;
      // One controller per socket: its listeners are removed together.
      const listeners = new AbortController();
      const signal = listeners.signal;

      socket.addEventListener(
        'open',
        () => {
          setStatus('open');
          const queued = outboxRef.current.splice(0);
          for (const frame of queued) socket.send(frame);
        },
        { signal },
      );
      socket.addEventListener(
        'message',
        (event: MessageEvent) => {
          const message = parseServerMessage(event.data);
          if (!message) return;
          if (message.event === 'hello') {
            resumeToken = message.data.resume_token;
            attempt = 0;
          } else if (message.event === 'token') {
            resumeToken = message.data.resume_token;
          } else if (message.event === 'banned') {
            banned = true;
          }
          for (const handler of [...handlersRef.current]) handler(message);
        },
        { signal },
      );
      socket.addEventListener(
        'close',
        (event: CloseEvent) => {
          listeners.abort();
          if (socketRef.current === socket) socketRef.current = null;
          if (lifetime.signal.aborted) return;
          if (event.code === CLOSE_REPLACED) {
            // this conversation goes on in a newer tab or window: resuming would take it back
            setStatus('replaced');
            return;
          }
          if (event.code === CLOSE_BANNED || banned) {
            // the server repeats the ban on every new connection until it ends
            setStatus('banned');
            return;
          }
          setStatus('reconnecting');
          retryTimer = setTimeout(connect, backoffDelay(attempt, baseDelayMs, maxDelayMs));
          attempt += 1;
        },
        { signal },
      );
    };

    // A tab that goes away closes its socket on purpose, so its partner is told at once.
    window.addEventListener('pagehide', () => socketRef.current?.close(NORMAL_CLOSURE), {
      signal: lifetime.signal,
    });

    setStatus('connecting');
    connect();

    return () => {
      lifetime.abort();
      clearTimeout(retryTimer);
      const socket = socketRef.current;
      socketRef.current = null;
      if (socket && socket.readyState <= WebSocket.OPEN) socket.close(NORMAL_CLOSURE);
      setStatus('closed');
    };
  }, [url, baseDelayMs, maxDelayMs]);

  const send = useCallback((message: ClientMessage) => {
    const frame = JSON.stringify(message);
    const socket = socketRef.current;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(frame);
      return;
    }
    const outbox = outboxRef.current;
    outbox.push(frame);
    if (outbox.length > OUTBOX_LIMIT) outbox.shift();
  }, []);

  const subscribe = useCallback((handler: MessageHandler) => {
    const handlers = handlersRef.current;
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
    };
  }, []);

  return { status, send, subscribe };
}
