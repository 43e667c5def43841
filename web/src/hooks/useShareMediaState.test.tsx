import { renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { MatchInfo } from '../protocol';
import { useShareMediaState, type ShareMediaStateOptions } from './useShareMediaState';

const match = (match_id: string, mode: MatchInfo['mode'] = 'video'): MatchInfo => ({ partner_id: 'p', match_id, initiator: true, mode });

function setup(initial: Omit<ShareMediaStateOptions, 'send'>) {
  const send = vi.fn();
  const hook = renderHook((p: Omit<ShareMediaStateOptions, 'send'>) => useShareMediaState({ ...p, send }), { initialProps: initial, reactStrictMode: true });
  return { ...hook, send };
}

describe('useShareMediaState', () => {
  it('says nothing while both are on (the stranger assumes so), and each change once', () => {
    const { rerender, send } = setup({ match: match('m1'), camera: true, mic: true });
    expect(send).not.toHaveBeenCalled();
    rerender({ match: match('m1'), camera: false, mic: true });
    rerender({ match: match('m1'), camera: false, mic: true }); // a render that changed nothing
    rerender({ match: match('m1'), camera: false, mic: false });
    rerender({ match: match('m1'), camera: true, mic: true });
    expect(send.mock.calls.map(([message]) => message.data)).toEqual([
      { camera: false, mic: true },
      { camera: false, mic: false },
      { camera: true, mic: true },
    ]);
    expect(send.mock.calls.every(([message]) => message.event === 'media_state')).toBe(true);
  });

  it('a new stranger hears at once what is off; nothing is said between matches or in text chats', () => {
    const { rerender, send } = setup({ match: null, camera: false, mic: true });
    expect(send).not.toHaveBeenCalled();
    rerender({ match: match('t1', 'text'), camera: false, mic: true });
    expect(send).not.toHaveBeenCalled();
    rerender({ match: match('m2'), camera: false, mic: true });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenLastCalledWith({ event: 'media_state', data: { camera: false, mic: true } });
    rerender({ match: { ...match('m2'), common_interests: ['x'] }, camera: false, mic: true }); // the same match, resumed
    expect(send).toHaveBeenCalledTimes(1);
    rerender({ match: match('m3'), camera: false, mic: true }); // the next stranger
    expect(send).toHaveBeenCalledTimes(2);
  });
});
