// Is a video's picture black or frozen? A state machine over small luma samples of it
// (picture/sample.ts takes them), doing no I/O, so that every rule is tested with made-up
// pictures. Nothing here leaves the browser.

/** The size of a sample: small enough to cost little, large enough that a face moving a little changes some of its cells. */
export const SAMPLE_WIDTH = 64;
export const SAMPLE_HEIGHT = 48;

/** A picture as the luma (0–255) of each of its SAMPLE_WIDTH × SAMPLE_HEIGHT cells, row by row. */
export type Luma = Uint8Array;

/**
 * A picture is dark when 95 % of its cells are at most this bright: nothing a viewer can make
 * out (a closed lens, a camera that sends black, a black screen with a small logo on it).
 * A dim room with a face or a screen's glow in it is brighter somewhere.
 */
export const DARK_LUMA = 24;
/** A dark picture in which some cell changes this much between two samples shows something moving: it is not black. */
export const DARK_MOTION_LUMA = 10;
/**
 * A picture none of whose cells changed more than this between two samples did not change:
 * a frozen one repeats exactly, while a live camera's noise moves some cell further.
 */
export const STILL_LUMA = 2;
/** How long a picture must stay black, or unchanged, before it is said to be. */
export const PROBLEM_AFTER_MS = 5_000;

export type PictureVerdict = 'ok' | 'black' | 'frozen';

export interface Sample {
  /** When it was taken (ms, a monotonic clock). */
  at: number;
  luma: Luma;
}

export interface PictureState {
  last: Sample | null;
  /** When the picture became black (dark and not moving), or null. */
  blackSince: number | null;
  /** When the picture last changed, while it has not since; null when it just did. */
  stillSince: number | null;
  verdict: PictureVerdict;
}

export const initialPicture: PictureState = { last: null, blackSince: null, stillSince: null, verdict: 'ok' };

/** Luma of RGBA pixels (Rec. 709 weights, in integers: 54 R + 183 G + 19 B over 256). */
export function lumaOf(rgba: ArrayLike<number>): Luma {
  const luma = new Uint8Array(rgba.length / 4);
  for (let i = 0, j = 0; j < luma.length; i += 4, j++) luma[j] = (54 * rgba[i] + 183 * rgba[i + 1] + 19 * rgba[i + 2]) >> 8;
  return luma;
}

/** The level 95 % of the cells are at or below. */
function brightest(luma: Luma): number {
  const counts = new Uint32Array(256);
  for (const value of luma) counts[value]++;
  let below = 0;
  const wanted = Math.ceil(luma.length * 0.95);
  for (let level = 0; level < 256; level++) {
    below += counts[level];
    if (below >= wanted) return level;
  }
  return 255;
}

/** The largest change of one cell between two samples (Infinity when their sizes differ). */
function largestChange(a: Luma, b: Luma): number {
  if (a.length !== b.length) return Infinity;
  let largest = 0;
  for (let i = 0; i < a.length; i++) {
    const change = Math.abs(a[i] - b[i]);
    if (change > largest) largest = change;
  }
  return largest;
}

/**
 * The state after one more sample; null when none could be taken (no frame yet, a hidden
 * tab): what was seen before says nothing about what comes after the gap.
 */
export function nextPicture(state: PictureState, sample: Sample | null): PictureState {
  if (!sample) return initialPicture;
  const { last } = state;
  const change = last ? largestChange(last.luma, sample.luma) : null;
  // A dark picture is black unless it moves; the step into it from a picture that was not
  // dark (the stranger covered the lens) is where black starts, not motion.
  const dark = (luma: Luma) => brightest(luma) <= DARK_LUMA;
  const black = dark(sample.luma) && (last === null || change === null || change < DARK_MOTION_LUMA || !dark(last.luma));
  const still = last !== null && change !== null && change <= STILL_LUMA;
  const blackSince = black ? (state.blackSince ?? sample.at) : null;
  const stillSince = still ? (state.stillSince ?? last.at) : null;
  const verdict: PictureVerdict =
    blackSince !== null && sample.at - blackSince >= PROBLEM_AFTER_MS
      ? 'black'
      : stillSince !== null && sample.at - stillSince >= PROBLEM_AFTER_MS
        ? 'frozen'
        : 'ok';
  return { last: sample, blackSince, stillSince, verdict };
}
