import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MatchInfo } from '../protocol';
import type { ChatLine } from './useMatch';
import { track, useLastPartner, type LastPartnerOptions, type Tracked } from './useLastPartner';

const matchOf = (match_id: string, mode: MatchInfo['mode'] = 'video'): MatchInfo => ({ partner_id: `p-${match_id}`, match_id, initiator: false, mode });
const notice = (id: number): ChatLine => ({ id, from: 'system', notice: 'matched' });
const line = (id: number, from: 'me' | 'stranger', text: string): ChatLine => ({ id, from, text });

describe('track', () => {
  const empty: Tracked = { match: null, conversation: null, ended: null };
  const clock = () => 1_000;

  it('returns the same state when nothing changed', () => {
    const m1 = matchOf('m1');
    const lines = [notice(1)];
    const state = track(empty, m1, lines, clock);
    expect(track(state, m1, lines, clock)).toBe(state);
  });

  it('a match that is no longer current ended now; a resumed one (same id, new object) did not', () => {
    const lines = [notice(1)];
    const state = track(empty, matchOf('m1'), lines, clock);
    expect(track(state, matchOf('m1'), lines, clock).ended).toBeNull();
    expect(track(state, null, lines, () => 5_000).ended).toEqual({ matchID: 'm1', mode: 'video', endedAt: 5_000 });
    expect(track(state, matchOf('m2'), [notice(9)], () => 6_000).ended).toEqual({ matchID: 'm1', mode: 'video', endedAt: 6_000 });
  });

  it("keeps the conversation's lines through partner left and Next, and starts anew with the next match", () => {
    const m1 = matchOf('m1');
    let state = track(empty, m1, [notice(1)], clock);
    state = track(state, m1, [notice(1), line(2, 'stranger', 'hi')], clock);
    // partner left: the page keeps the lines, adds its own, and one more line arrived in the same render
    const shown = [notice(1), line(2, 'stranger', 'hi'), line(3, 'stranger', 'bye'), { id: 4, from: 'system', notice: 'partner_left' } as ChatLine];
    state = track(state, null, shown, clock);
    expect(state.conversation?.lines).toBe(shown);
    // Next: the page clears its lines; the report's copy stays
    state = track(state, null, [], clock);
    expect(state.conversation?.lines).toBe(shown);
    // the next match's lines are a new conversation
    const next = [notice(7)];
    state = track(state, matchOf('m2'), next, clock);
    expect(state.conversation).toEqual({ matchID: 'm2', common: [], firstLineID: 7, lines: next });
  });
});

describe('useLastPartner', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function render(initial: LastPartnerOptions) {
    return renderHook((props: LastPartnerOptions) => useLastPartner({ windowMs: 60_000, ...props }), { initialProps: initial, reactStrictMode: true });
  }

  it('nothing to report before any match', () => {
    const { result } = render({ match: null, lines: [] });
    expect(result.current).toBeNull();
  });

  it('the current partner while matched; the last one, with that chat, for the window after; then nobody', () => {
    const m1 = matchOf('m1');
    const lines = [notice(1), line(2, 'me', 'hello'), line(3, 'stranger', 'hey')];
    const { result, rerender } = render({ match: m1, lines });
    expect(result.current).toEqual({
      matchID: 'm1',
      mode: 'video',
      current: true,
      chat: [
        { from: 'you', text: 'hello' },
        { from: 'stranger', text: 'hey' },
      ],
    });

    rerender({ match: null, lines: [] }); // Next: the page cleared its lines in the same step
    expect(result.current).toEqual({ ...result.current, matchID: 'm1', current: false });
    expect(result.current?.chat).toHaveLength(2);
    act(() => vi.advanceTimersByTime(59_999));
    expect(result.current?.matchID).toBe('m1');
    act(() => vi.advanceTimersByTime(1));
    expect(result.current).toBeNull();
  });

  it('a new match replaces the last partner at once, and its own end restarts the window', () => {
    const { result, rerender } = render({ match: matchOf('m1'), lines: [notice(1)] });
    rerender({ match: null, lines: [notice(1)] });
    act(() => vi.advanceTimersByTime(40_000));
    rerender({ match: matchOf('m2', 'text'), lines: [notice(5)] });
    expect(result.current).toMatchObject({ matchID: 'm2', mode: 'text', current: true });
    rerender({ match: null, lines: [notice(5)] });
    act(() => vi.advanceTimersByTime(30_000)); // 70 s after m1 ended, 30 s after m2 did
    expect(result.current).toMatchObject({ matchID: 'm2', current: false });
    act(() => vi.advanceTimersByTime(30_000));
    expect(result.current).toBeNull();
  });
});
