import { describe, expect, it } from 'vitest';
import { initialScreening, isBlurred, nextScreening, REPORT_OFFER_AFTER, reportOffer, type Screening, type ScreeningEvent } from './policy';
import { DEFAULT_THRESHOLDS, isUnsafe, thresholdsFrom, unsafeScore, type Scores } from './scores';

const scores = (overrides: Partial<Scores>): Scores => ({ Drawing: 0, Hentai: 0, Neutral: 0, Porn: 0, Sexy: 0, ...overrides });
const SAFE = scores({ Neutral: 0.95, Drawing: 0.05 });
const NUDE = scores({ Porn: 0.9, Neutral: 0.1 });

const still = (matchID: string, value: Scores, evidence: string | null = null): ScreeningEvent => ({
  type: 'scores',
  matchID,
  scores: value,
  thresholds: DEFAULT_THRESHOLDS,
  evidence,
});

function run(...events: ScreeningEvent[]): Screening {
  return events.reduce(nextScreening, initialScreening);
}

describe('unsafe score', () => {
  it.each([
    ['Porn alone', scores({ Porn: 0.6, Neutral: 0.4 }), true],
    ['Porn + Hentai together', scores({ Porn: 0.3, Hentai: 0.25, Neutral: 0.45 }), true],
    ['just below the threshold', scores({ Porn: 0.3, Hentai: 0.19, Neutral: 0.51 }), false],
    ['Sexy below its own threshold does not count', scores({ Sexy: 0.79, Porn: 0.2, Neutral: 0.01 }), false],
    ['Sexy at its threshold counts', scores({ Sexy: 0.8, Neutral: 0.2 }), true],
    ['a green test pattern (what nsfwjs says of the fake camera)', scores({ Neutral: 0.9, Drawing: 0.08, Hentai: 0.02 }), false],
  ])('%s', (_name, value, unsafe) => {
    expect(isUnsafe(value)).toBe(unsafe);
  });

  it('adds Sexy only when Sexy itself is high', () => {
    expect(unsafeScore(scores({ Porn: 0.1, Sexy: 0.5 }))).toBeCloseTo(0.1);
    expect(unsafeScore(scores({ Porn: 0.1, Sexy: 0.85 }))).toBeCloseTo(0.95);
  });

  it('takes thresholds from the test hook clamped to 0–1, defaults otherwise', () => {
    expect(thresholdsFrom({ unsafe: 0, sexy: 2 })).toEqual({ unsafe: 0, sexy: 1 });
    expect(thresholdsFrom({ unsafe: 'x' })).toEqual(DEFAULT_THRESHOLDS);
    expect(thresholdsFrom(undefined)).toEqual(DEFAULT_THRESHOLDS);
    // unsafe 0: every still is flagged (how the browser tests flag the green test pattern)
    expect(isUnsafe(SAFE, thresholdsFrom({ unsafe: 0 }))).toBe(true);
  });
});

describe('blur policy', () => {
  it('a new stranger starts blurred and is shown once the first still says safe', () => {
    const matched = run({ type: 'match', matchID: 'm1' });
    expect(isBlurred(matched, true)).toBe(true);
    expect(matched.verdict).toBe('pending');
    const safe = nextScreening(matched, still('m1', SAFE));
    expect(isBlurred(safe, true)).toBe(false);
    expect(safe.verdict).toBe('safe');
  });

  it('blurs again when a still crosses the threshold, and un-blurs when it is safe again', () => {
    let state = run({ type: 'match', matchID: 'm1' }, still('m1', SAFE), still('m1', NUDE));
    expect(isBlurred(state, true)).toBe(true);
    expect(state.flagged).toBe(1);
    state = nextScreening(state, still('m1', SAFE));
    expect(isBlurred(state, true)).toBe(false);
    expect(state.flagged).toBe(1); // a flagged still stays counted
  });

  it('Show anyway: shown while the stranger stays unsafe, blurred again at the next crossing', () => {
    let state = run({ type: 'match', matchID: 'm1' }, still('m1', SAFE), still('m1', NUDE), { type: 'showAnyway' });
    expect(isBlurred(state, true)).toBe(false);
    state = nextScreening(state, still('m1', NUDE)); // still unsafe: as the user chose
    expect(isBlurred(state, true)).toBe(false);
    state = nextScreening(state, still('m1', SAFE));
    expect(isBlurred(state, true)).toBe(false);
    state = nextScreening(state, still('m1', NUDE)); // crossed again: blurred again
    expect(isBlurred(state, true)).toBe(true);
  });

  it('Show anyway before anything is known: the first flagged still blurs it after all', () => {
    let state = run({ type: 'match', matchID: 'm1' }, { type: 'showAnyway' });
    expect(isBlurred(state, true)).toBe(false);
    state = nextScreening(state, still('m1', NUDE));
    expect(isBlurred(state, true)).toBe(true);
  });

  it(`offers the one-click report after ${REPORT_OFFER_AFTER} flagged stills, with the last flagged still`, () => {
    let state = run({ type: 'match', matchID: 'm1' }, still('m1', NUDE, 'jpeg-1'), still('m1', SAFE), still('m1', NUDE, 'jpeg-2'));
    expect(reportOffer(state)).toBeNull();
    state = nextScreening(state, still('m1', NUDE, 'jpeg-3'));
    expect(state.flagged).toBe(3);
    expect(reportOffer(state)).toEqual({ matchID: 'm1', frame: 'jpeg-3' });
    // a still that could not be encoded keeps the last one that could
    state = nextScreening(state, still('m1', NUDE, null));
    expect(reportOffer(state)).toEqual({ matchID: 'm1', frame: 'jpeg-3' });
  });

  it('counts per conversation: a new stranger starts from nothing; the end of one keeps its offer', () => {
    const flagged = run({ type: 'match', matchID: 'm1' }, still('m1', NUDE), still('m1', NUDE), still('m1', NUDE));
    const ended = nextScreening(flagged, { type: 'match', matchID: null });
    expect(reportOffer(ended)).toEqual({ matchID: 'm1', frame: null }); // reportable for a while after it ended
    const next = nextScreening(ended, { type: 'match', matchID: 'm2' });
    expect(next).toMatchObject({ matchID: 'm2', verdict: 'pending', flagged: 0, shownAnyway: false, evidence: null });
    expect(reportOffer(next)).toBeNull();
    expect(isBlurred(next, true)).toBe(true);
  });

  it("ignores a late still of the previous stranger's video", () => {
    const state = run({ type: 'match', matchID: 'm1' }, { type: 'match', matchID: 'm2' }, still('m1', SAFE), still('m1', NUDE));
    expect(state).toMatchObject({ matchID: 'm2', verdict: 'pending', flagged: 0 });
  });

  it('without a classifier nothing ever says safe: blurred, until Show anyway, for every stranger', () => {
    let state = run({ type: 'match', matchID: 'm1' }, { type: 'unavailable' });
    expect(isBlurred(state, true)).toBe(true);
    state = nextScreening(state, { type: 'showAnyway' });
    expect(isBlurred(state, true)).toBe(false);
    state = nextScreening(state, { type: 'match', matchID: 'm2' });
    expect(state.verdict).toBe('unavailable');
    expect(isBlurred(state, true)).toBe(true);
  });

  it('the toggle: off, nothing is blurred whatever the stills said; back on, blurred until the next still', () => {
    const unsafe = run({ type: 'match', matchID: 'm1' }, still('m1', NUDE));
    expect(isBlurred(unsafe, false)).toBe(false);
    expect(isBlurred(run({ type: 'match', matchID: 'm1' }), false)).toBe(false);
    const safe = run({ type: 'match', matchID: 'm1' }, still('m1', SAFE), { type: 'showAnyway' });
    const resumed = nextScreening(safe, { type: 'resume' });
    expect(resumed).toMatchObject({ verdict: 'pending', shownAnyway: false });
    expect(isBlurred(resumed, true)).toBe(true);
    expect(isBlurred(nextScreening(resumed, still('m1', SAFE)), true)).toBe(false);
  });
});
