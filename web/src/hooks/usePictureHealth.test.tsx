import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROBLEM_AFTER_MS, SAMPLE_HEIGHT, SAMPLE_WIDTH, type Luma } from '../picture/health';
import type { PictureSampler } from '../picture/sample';
import { FakeMediaStream } from '../test/fakes';
import { usePictureHealth, type PictureHealthOptions } from './usePictureHealth';

const INTERVAL_MS = 500;
const CELLS = SAMPLE_WIDTH * SAMPLE_HEIGHT;
const black = (): Luma => new Uint8Array(CELLS);
let frame = 0;
/** A live picture: textured, and different every time. */
const live = (): Luma => Uint8Array.from({ length: CELLS }, (_, i) => 60 + ((i * 31 + frame++ * 17) % 120));

describe('usePictureHealth', () => {
  let picture: () => Luma | null;
  const sampler: PictureSampler = vi.fn(() => picture());
  const video = { current: document.createElement('video') };
  const stream = new FakeMediaStream() as unknown as MediaStream;

  beforeEach(() => {
    vi.useFakeTimers();
    picture = live;
  });
  afterEach(() => vi.useRealTimers());

  function render(overrides: Partial<PictureHealthOptions> = {}) {
    const initialProps: PictureHealthOptions = { video, stream, matchID: 'm1', cameraOn: true, intervalMs: INTERVAL_MS, sampler, ...overrides };
    return renderHook((props: PictureHealthOptions) => usePictureHealth(props), { initialProps });
  }
  const wait = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

  it('says black after PROBLEM_AFTER_MS of black, not before, and clears it when the picture comes back', async () => {
    const { result } = render();
    await wait(2 * INTERVAL_MS);
    expect(result.current).toBe('ok');
    picture = black;
    await wait(PROBLEM_AFTER_MS - INTERVAL_MS);
    expect(result.current).toBe('ok');
    await wait(2 * INTERVAL_MS);
    expect(result.current).toBe('black');
    picture = live;
    await wait(INTERVAL_MS);
    expect(result.current).toBe('ok');
  });

  it('says frozen when the same picture repeats', async () => {
    const { result } = render();
    const still = live();
    picture = () => still;
    await wait(PROBLEM_AFTER_MS + 2 * INTERVAL_MS);
    expect(result.current).toBe('frozen');
  });

  it('says nothing while the stranger\'s camera is off, and starts over when it is back on', async () => {
    picture = black;
    const { result, rerender } = render({ cameraOn: false });
    const calls = vi.mocked(sampler).mock.calls.length;
    await wait(PROBLEM_AFTER_MS * 2);
    expect(result.current).toBe('ok');
    expect(vi.mocked(sampler).mock.calls.length).toBe(calls); // not even sampled
    rerender({ video, stream, matchID: 'm1', cameraOn: true, intervalMs: INTERVAL_MS, sampler });
    await wait(PROBLEM_AFTER_MS - INTERVAL_MS); // the black of the first seconds back on is not held against it
    expect(result.current).toBe('ok');
    await wait(2 * INTERVAL_MS);
    expect(result.current).toBe('black');
  });

  it('a new stranger starts over', async () => {
    picture = black;
    const { result, rerender } = render();
    await wait(PROBLEM_AFTER_MS + INTERVAL_MS);
    expect(result.current).toBe('black');
    rerender({ video, stream, matchID: 'm2', cameraOn: true, intervalMs: INTERVAL_MS, sampler });
    expect(result.current).toBe('ok');
    await wait(PROBLEM_AFTER_MS - INTERVAL_MS);
    expect(result.current).toBe('ok');
  });

  it('without a match, a stream or a sampler it says nothing and samples nothing', async () => {
    picture = black;
    const before = vi.mocked(sampler).mock.calls.length;
    const without = [render({ matchID: null }), render({ stream: null }), render({ sampler: null })];
    await wait(PROBLEM_AFTER_MS * 2);
    for (const { result } of without) expect(result.current).toBe('ok');
    expect(vi.mocked(sampler).mock.calls.length).toBe(before);
  });

  it('a video without a frame yet is no evidence: no verdict from the gap', async () => {
    picture = () => null;
    const { result } = render();
    await wait(PROBLEM_AFTER_MS * 2);
    expect(result.current).toBe('ok');
  });
});
