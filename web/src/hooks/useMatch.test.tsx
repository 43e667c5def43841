import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../protocol';
import { useMatch } from './useMatch';
import type { Signaling } from './useSignaling';

function fakeSignaling(sent: ClientMessage[] = []) {
  const listeners = new Set<(message: ServerMessage) => void>();
  const signaling = {
    send: (message: ClientMessage) => sent.push(message),
    subscribe: (listener: (message: ServerMessage) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as Signaling;
  const server = (message: ServerMessage) => act(() => listeners.forEach((listener) => listener(message)));
  return { signaling, server };
}

describe('useMatch: ICE servers', () => {
  it('takes STUN from hello and the TURN credential that comes with match_found', () => {
    const { signaling, server } = fakeSignaling();
    const { result } = renderHook(() => useMatch(signaling));
    const stun = { urls: ['stun:stun.example:3478'] };
    server({ event: 'hello', data: { id: 'me', resume_token: 't', online: 1, ice_servers: [stun], resumed: false } });
    expect(result.current.iceServers).toEqual([{ urls: ['stun:stun.example:3478'] }]);

    act(() => result.current.start({ interests: [], mode: 'video', languages: [], onlyLanguage: false }));
    const turn = { urls: ['turn:turn.example:3478'], username: '1700000000:me', credential: 'c3VwZXI=' };
    server({
      event: 'match_found',
      data: { partner_id: 'p', initiator: true, match_id: 'm1', common_interests: [], mode: 'video', ice_servers: [stun, turn] },
    });
    expect(result.current.match?.match_id).toBe('m1');
    expect(result.current.iceServers).toEqual([stun, turn]);

    // a match without ice_servers (a server without TURN) keeps what the page has
    server({ event: 'partner_left', data: { from: 'p', reason: 'next' } });
    act(() => result.current.next());
    server({ event: 'match_found', data: { partner_id: 'q', initiator: false, match_id: 'm2', common_interests: [], mode: 'video' } });
    expect(result.current.iceServers).toEqual([stun, turn]);
  });

  it('hello.turn says whether the server has a TURN relay (each hello anew: a reconnect may reach another server)', () => {
    const { signaling, server } = fakeSignaling();
    const { result } = renderHook(() => useMatch(signaling));
    expect(result.current.turn).toBeNull(); // not known before hello
    server({ event: 'hello', data: { id: 'me', resume_token: 't', online: 1, ice_servers: [], resumed: false, turn: true } });
    expect(result.current.turn).toBe(true);
    expect(result.current.iceServers).toEqual([]); // no credential with it
    server({ event: 'hello', data: { id: 'me2', resume_token: 't', online: 1, ice_servers: [], resumed: false } });
    expect(result.current.turn).toBe(false);
  });
});

describe('useMatch: languages', () => {
  it('find_match carries the languages, and only_language only when asked', () => {
    const sent: ClientMessage[] = [];
    const { signaling, server } = fakeSignaling(sent);
    const { result } = renderHook(() => useMatch(signaling));
    server({ event: 'hello', data: { id: 'me', resume_token: 't', online: 1, ice_servers: [], resumed: false } });
    act(() => result.current.start({ interests: ['chess'], mode: 'text', languages: ['pt', 'en'], onlyLanguage: false }));
    expect(sent.filter((m) => m.event === 'find_match').at(-1)).toEqual({
      event: 'find_match',
      data: { interests: ['chess'], mode: 'text', languages: ['pt', 'en'] },
    });
    server({ event: 'match_found', data: { partner_id: 'p', initiator: true, match_id: 'm1', common_interests: [], language: 'pt', mode: 'text' } });
    expect(result.current.match?.language).toBe('pt');

    act(() => result.current.stop());
    act(() => result.current.start({ interests: [], mode: 'video', languages: ['hi'], onlyLanguage: true }));
    expect(sent.filter((m) => m.event === 'find_match').at(-1)).toEqual({
      event: 'find_match',
      data: { interests: [], mode: 'video', languages: ['hi'], only_language: true },
    });
  });

  it('says how the stranger was found: shared interests, a shared language only, or at random', () => {
    const { signaling, server } = fakeSignaling();
    const { result } = renderHook(() => useMatch(signaling));
    server({ event: 'hello', data: { id: 'me', resume_token: 't', online: 1, ice_servers: [], resumed: false } });
    const noticeAfter = (data: { common_interests: string[]; language?: 'en' }, interests: string[]) => {
      act(() => result.current.stop());
      act(() => result.current.start({ interests, mode: 'text', languages: ['en'], onlyLanguage: false }));
      server({ event: 'match_found', data: { partner_id: 'p', initiator: true, match_id: 'm', mode: 'text', ...data } });
      const first = result.current.lines[0];
      return first?.from === 'system' ? first.notice : undefined;
    };
    expect(noticeAfter({ common_interests: ['chess'], language: 'en' }, ['chess'])).toBe('matched');
    expect(noticeAfter({ common_interests: [], language: 'en' }, ['chess'])).toBe('matchedLanguage');
    expect(noticeAfter({ common_interests: [] }, ['chess'])).toBe('matchedRandom');
    expect(noticeAfter({ common_interests: [], language: 'en' }, [])).toBe('matched');
  });
});
