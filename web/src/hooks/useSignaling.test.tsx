import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, hello, installBrowserFakes } from '../test/fakes';
import type { ServerMessage } from '../protocol';
import { useSignaling } from './useSignaling';

describe('useSignaling', () => {
  beforeEach(() => {
    installBrowserFakes(() => Promise.reject(new Error('unused')));
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('connects to /ws on this host and queues sends until the socket opens', () => {
    const { result } = renderHook(() => useSignaling());
    const socket = FakeWebSocket.latest();
    expect(socket.url).toBe(`ws://${window.location.host}/ws`);
    expect(result.current.status).toBe('connecting');

    act(() => result.current.send({ event: 'find_match', data: { mode: 'text' } }));
    expect(socket.sent).toEqual([]);
    act(() => socket.serverOpen());
    expect(result.current.status).toBe('open');
    expect(socket.sent).toEqual([{ event: 'find_match', data: { mode: 'text' } }]);
  });

  it('delivers parsed messages to subscribers in order and ignores junk', () => {
    const { result } = renderHook(() => useSignaling());
    const socket = FakeWebSocket.latest();
    const seen: ServerMessage['event'][] = [];
    const unsubscribe = result.current.subscribe((message) => seen.push(message.event));
    act(() => {
      socket.serverOpen();
      socket.serverSend(hello('me'));
      socket.emit('message', { data: 'not json' });
      socket.serverSend({ event: 'online', data: { count: 3 } });
    });
    unsubscribe();
    act(() => socket.serverSend({ event: 'online', data: { count: 4 } }));
    expect(seen).toEqual(['hello', 'online']);
  });

  it('reconnects with backoff and the resume token after the socket drops', () => {
    const { result } = renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    const first = FakeWebSocket.latest();
    act(() => {
      first.serverOpen();
      first.serverSend(hello('me', { resume_token: 'secret/token' }));
    });

    act(() => first.serverClose(1012)); // server restarting
    expect(result.current.status).toBe('reconnecting');
    expect(FakeWebSocket.instances).toHaveLength(1);

    act(() => vi.advanceTimersByTime(200)); // first retry is 75–125 ms
    const second = FakeWebSocket.latest();
    expect(second).not.toBe(first);
    expect(second.url).toBe(`ws://${window.location.host}/ws?resume=secret%2Ftoken`);

    // A failed attempt backs off longer before the next one.
    act(() => second.serverClose(1006));
    act(() => vi.advanceTimersByTime(140));
    expect(FakeWebSocket.instances).toHaveLength(2);
    act(() => vi.advanceTimersByTime(200));
    expect(FakeWebSocket.instances).toHaveLength(3);

    act(() => FakeWebSocket.latest().serverOpen());
    expect(result.current.status).toBe('open');
  });

  it('resumes with the token a Stop handed out, not the one before it', () => {
    renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    const first = FakeWebSocket.latest();
    act(() => {
      first.serverOpen();
      first.serverSend(hello('me', { resume_token: 'me.old' }));
      first.serverSend({ event: 'token', data: { resume_token: 'me.new' } });
    });
    act(() => first.serverClose(1006));
    act(() => vi.advanceTimersByTime(200));
    expect(FakeWebSocket.latest().url).toBe(`ws://${window.location.host}/ws?resume=me.new`);
  });

  it('never resumes after 4001: a newer connection owns the identity', () => {
    const { result } = renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    const socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend(hello('me', { resume_token: 'me.token' }));
    });
    act(() => socket.serverClose(4001));
    expect(result.current.status).toBe('replaced');
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('never reconnects after 4003: banned, and a new connection would only be refused again', () => {
    const { result } = renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    const socket = FakeWebSocket.latest();
    const seen: string[] = [];
    result.current.subscribe((message) => seen.push(message.event));
    act(() => {
      socket.serverOpen();
      socket.serverSend(hello('me', { resume_token: 'me.token' }));
      socket.serverSend({ event: 'banned', data: { until: '2031-01-02T03:04:05Z', reason: 'spam' } });
    });
    expect(seen).toEqual(['hello', 'banned']);
    act(() => socket.serverClose(4003));
    expect(result.current.status).toBe('banned');
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('after a banned message a close without 4003 (1006) does not reconnect either', () => {
    const { result } = renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    const socket = FakeWebSocket.latest();
    act(() => {
      socket.serverOpen();
      socket.serverSend(hello('me'));
      socket.serverSend({ event: 'banned', data: { until: '2031-01-02T03:04:05Z', reason: 'spam' } });
    });
    act(() => socket.serverClose(1006));
    expect(result.current.status).toBe('banned');
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('a 4003 without the message first is banned too (no resume)', () => {
    const { result } = renderHook(() => useSignaling({ baseDelayMs: 100, maxDelayMs: 1000 }));
    act(() => FakeWebSocket.latest().serverOpen());
    act(() => FakeWebSocket.latest().serverClose(4003));
    expect(result.current.status).toBe('banned');
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('closes with 1000 on unmount and never reconnects', () => {
    const { unmount } = renderHook(() => useSignaling());
    const socket = FakeWebSocket.latest();
    act(() => socket.serverOpen());
    unmount();
    expect(socket.closeCode).toBe(1000);
    expect(socket.listenerCount()).toBe(0);
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('closes with 1000 when the page is hidden for good (tab closed)', () => {
    renderHook(() => useSignaling());
    const socket = FakeWebSocket.latest();
    act(() => socket.serverOpen());
    act(() => {
      window.dispatchEvent(new Event('pagehide'));
    });
    expect(socket.closeCode).toBe(1000);
  });

  it('leaves exactly one live socket under StrictMode', () => {
    renderHook(() => useSignaling(), { reactStrictMode: true });
    const live = FakeWebSocket.instances.filter((socket) => socket.readyState !== FakeWebSocket.CLOSED);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(live).toHaveLength(1);
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.instances).toHaveLength(2); // the closed one did not trigger a reconnect
  });
});
