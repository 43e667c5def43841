import { describe, expect, it } from 'vitest';
import { DEFAULT_NUDITY_CONFIG, nudityConfigFrom } from './config';

describe("the browser tests' hook (window.goMegleTest.nudity)", () => {
  it('gives the defaults without it, or for values that are not numbers', () => {
    expect(nudityConfigFrom(undefined)).toEqual(DEFAULT_NUDITY_CONFIG);
    expect(nudityConfigFrom({ intervalMs: 'fast', selfCheckWaitMs: Number.NaN })).toEqual(DEFAULT_NUDITY_CONFIG);
    expect(DEFAULT_NUDITY_CONFIG.selfCheckWaitMs).toBe(5_000); // what users get
  });

  it('clamps what it may change, so a page only ever runs a sane check', () => {
    expect(nudityConfigFrom({ intervalMs: 1, selfCheckWaitMs: 1 })).toMatchObject({ intervalMs: 250, selfCheckWaitMs: 1_000 });
    expect(nudityConfigFrom({ intervalMs: 1e9, selfCheckWaitMs: 1e9 })).toMatchObject({ intervalMs: 60_000, selfCheckWaitMs: 120_000 });
    expect(nudityConfigFrom({ selfCheckWaitMs: 60_000, backends: ['cpu', 'gpu'] })).toMatchObject({ selfCheckWaitMs: 60_000, backends: ['cpu'] });
  });
});
