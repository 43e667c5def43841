import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CandidateType, ClientMessage, MatchInfo } from '../protocol';
import { statsWithSelectedLocal } from '../test/fakes';
import { callTimeoutsFrom, useCallOutcome, type CallTimeouts } from './useCallOutcome';
import { selectedLocalCandidateType, type PeerConnection } from './usePeerConnection';

const video = (id = 'm1', overrides: Partial<MatchInfo> = {}): MatchInfo => ({
  partner_id: 'stranger',
  match_id: id,
  initiator: true,
  mode: 'video',
  common_interests: [],
  ...overrides,
});

interface Props {
  match: MatchInfo | null;
  connectionState: PeerConnection['connectionState'];
}

function setup(initial: Props, timeouts?: Partial<CallTimeouts>, candidate: CandidateType | null = 'host') {
  const sent: ClientMessage[] = [];
  const send = (message: ClientMessage) => sent.push(message);
  const localCandidateType = vi.fn(async () => candidate);
  const hook = renderHook(
    ({ match, connectionState }: Props) =>
      useCallOutcome({ signaling: { send }, match, peer: { connectionState, localCandidateType }, timeouts }),
    { initialProps: initial, reactStrictMode: true },
  );
  const stats = () => sent.filter((message) => message.event === 'rtc_stats');
  return { ...hook, sent, stats, localCandidateType };
}

describe('useCallOutcome', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('watches nothing without a video match', () => {
    const { result, rerender, stats } = setup({ match: null, connectionState: 'none' });
    expect(result.current).toBe('none');
    rerender({ match: video('t', { mode: 'text' }), connectionState: 'none' });
    act(() => vi.advanceTimersByTime(60_000));
    expect(result.current).toBe('none');
    expect(stats()).toEqual([]);
  });

  it('connected: reports once with the setup time and the local candidate type', async () => {
    const { result, rerender, stats } = setup({ match: video(), connectionState: 'new' });
    expect(result.current).toBe('connecting');
    act(() => vi.advanceTimersByTime(1_234));
    rerender({ match: video(), connectionState: 'connecting' });
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    expect(result.current).toBe('connected');
    expect(stats()).toEqual([{ event: 'rtc_stats', data: { outcome: 'connected', setup_ms: 1_234, candidate: 'host' } }]);

    // Later drops and recoveries are not reported again.
    rerender({ match: video(), connectionState: 'disconnected' });
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    act(() => vi.advanceTimersByTime(60_000));
    expect(stats()).toHaveLength(1);
  });

  it('not connected within 15 s of match_found: gives up and reports failed (no candidate)', () => {
    const { result, rerender, stats } = setup({ match: video(), connectionState: 'new' });
    act(() => vi.advanceTimersByTime(5_000));
    rerender({ match: video(), connectionState: 'connecting' }); // a state change does not restart the clock
    act(() => vi.advanceTimersByTime(9_999));
    expect(result.current).toBe('connecting');
    expect(stats()).toEqual([]);
    act(() => vi.advanceTimersByTime(1));
    expect(result.current).toBe('failed');
    expect(stats()).toEqual([{ event: 'rtc_stats', data: { outcome: 'failed', setup_ms: 15_000 } }]);
    act(() => vi.advanceTimersByTime(60_000));
    expect(stats()).toHaveLength(1);
  });

  it('failed after connecting: recovering for 10 s, then failed (reported once: it was connected)', async () => {
    const { result, rerender, stats } = setup({ match: video(), connectionState: 'new' });
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    act(() => vi.advanceTimersByTime(60_000)); // the setup deadline no longer applies
    rerender({ match: video(), connectionState: 'failed' });
    expect(result.current).toBe('recovering');
    act(() => vi.advanceTimersByTime(4_000));
    rerender({ match: video(), connectionState: 'connecting' }); // the ICE restart is under way: same deadline
    act(() => vi.advanceTimersByTime(5_999));
    expect(result.current).toBe('recovering');
    act(() => vi.advanceTimersByTime(1));
    expect(result.current).toBe('failed');
    expect(stats().map((m) => m.data)).toEqual([{ outcome: 'connected', setup_ms: 0, candidate: 'host' }]);
  });

  it('an ICE restart that recovers in time keeps the call', async () => {
    const { result, rerender } = setup({ match: video(), connectionState: 'new' });
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    rerender({ match: video(), connectionState: 'failed' });
    act(() => vi.advanceTimersByTime(9_000));
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    act(() => vi.advanceTimersByTime(60_000));
    expect(result.current).toBe('connected');
  });

  it('failed before ever connecting: gives up at the recovery deadline when it comes first', () => {
    const { result, rerender, stats } = setup({ match: video(), connectionState: 'new' }, { setupMs: 15_000, recoveryMs: 3_000 });
    act(() => vi.advanceTimersByTime(2_000));
    rerender({ match: video(), connectionState: 'failed' });
    act(() => vi.advanceTimersByTime(2_999));
    expect(result.current).toBe('connecting');
    act(() => vi.advanceTimersByTime(1));
    expect(result.current).toBe('failed');
    expect(stats().map((m) => m.data)).toEqual([{ outcome: 'failed', setup_ms: 5_000 }]);
  });

  it('a new match starts a new clock and a new report; a resumed match (same id) does not', async () => {
    const { result, rerender, stats } = setup({ match: video('m1'), connectionState: 'new' }, { setupMs: 2_000 });
    act(() => vi.advanceTimersByTime(1_500));
    rerender({ match: video('m1', { common_interests: ['x'] }), connectionState: 'new' }); // resumed
    act(() => vi.advanceTimersByTime(500));
    expect(result.current).toBe('failed');
    rerender({ match: video('m2'), connectionState: 'new' });
    expect(result.current).toBe('connecting');
    act(() => vi.advanceTimersByTime(300));
    await act(async () => rerender({ match: video('m2'), connectionState: 'connected' }));
    expect(stats().map((m) => m.data)).toEqual([
      { outcome: 'failed', setup_ms: 2_000 },
      { outcome: 'connected', setup_ms: 300, candidate: 'host' },
    ]);
  });

  it('the match ending stops the clock', () => {
    const { result, rerender, stats } = setup({ match: video(), connectionState: 'new' });
    rerender({ match: null, connectionState: 'none' });
    act(() => vi.advanceTimersByTime(60_000));
    expect(result.current).toBe('none');
    expect(stats()).toEqual([]);
  });

  it('connected without a readable candidate type: reported without one', async () => {
    const { rerender, stats } = setup({ match: video(), connectionState: 'new' }, undefined, null);
    await act(async () => rerender({ match: video(), connectionState: 'connected' }));
    expect(stats().map((m) => m.data)).toEqual([{ outcome: 'connected', setup_ms: 0 }]);
  });
});

describe('selectedLocalCandidateType', () => {
  it.each(['host', 'srflx', 'relay', 'prflx'])('reads %s from the transport’s selected pair', (type) => {
    expect(selectedLocalCandidateType(statsWithSelectedLocal(type))).toBe(type);
  });
  it('falls back to the nominated, succeeded pair without a transport report; null without one', () => {
    const stats = statsWithSelectedLocal('relay');
    stats.delete('T1');
    expect(selectedLocalCandidateType(stats)).toBe('relay');
    stats.delete('CP1');
    expect(selectedLocalCandidateType(stats)).toBeNull();
    expect(selectedLocalCandidateType(new Map())).toBeNull();
  });
});

describe('callTimeoutsFrom (the browser tests’ window.goMegleTest)', () => {
  it('takes numbers, clamped to 0.5–60 s, and ignores anything else', () => {
    expect(callTimeoutsFrom(undefined)).toEqual({});
    expect(callTimeoutsFrom({ callSetupMs: 3_000, callRecoveryMs: 2_000 })).toEqual({ setupMs: 3_000, recoveryMs: 2_000 });
    expect(callTimeoutsFrom({ callSetupMs: 1, callRecoveryMs: 1e9 })).toEqual({ setupMs: 500, recoveryMs: 60_000 });
    expect(callTimeoutsFrom({ callSetupMs: '3', callRecoveryMs: NaN })).toEqual({});
  });
});
