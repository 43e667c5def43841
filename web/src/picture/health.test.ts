import { describe, expect, it } from 'vitest';
import { DARK_LUMA, initialPicture, lumaOf, nextPicture, PROBLEM_AFTER_MS, SAMPLE_HEIGHT, SAMPLE_WIDTH, type Luma, type PictureState, type PictureVerdict } from './health';

const CELLS = SAMPLE_WIDTH * SAMPLE_HEIGHT;
const EVERY_MS = 500;

/** A seeded pseudo-random generator, so that every run sees the same pictures. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const flat = (level: number): Luma => new Uint8Array(CELLS).fill(level);

/** A textured picture (a room): cells between 40 and 200. */
function scene(seed: number): Luma {
  const next = random(seed);
  return Uint8Array.from({ length: CELLS }, () => 40 + Math.floor(next() * 160));
}

/** The same picture with a camera's sensor noise: every cell off by up to ±amplitude. */
function noisy(base: Luma, seed: number, amplitude = 4): Luma {
  const next = random(seed);
  return base.map((value) => Math.max(0, Math.min(255, value + Math.round((next() * 2 - 1) * amplitude))));
}

/** Runs samples taken EVERY_MS apart from time 0 and returns every verdict along the way. */
function run(pictures: Array<Luma | null>, from: PictureState = initialPicture, startAt = 0): { verdicts: PictureVerdict[]; state: PictureState } {
  const verdicts: PictureVerdict[] = [];
  let state = from;
  pictures.forEach((luma, i) => {
    state = nextPicture(state, luma && { at: startAt + i * EVERY_MS, luma });
    verdicts.push(state.verdict);
  });
  return { verdicts, state };
}

/** How many samples make PROBLEM_AFTER_MS (the first sample is at 0). */
const SAMPLES_TO_PROBLEM = PROBLEM_AFTER_MS / EVERY_MS + 1;

describe('a picture\'s health', () => {
  it('black: said once it has been black for PROBLEM_AFTER_MS, not before', () => {
    const { verdicts } = run(Array.from({ length: SAMPLES_TO_PROBLEM + 2 }, () => flat(0)));
    expect(verdicts.slice(0, SAMPLES_TO_PROBLEM - 1)).toEqual(Array(SAMPLES_TO_PROBLEM - 1).fill('ok'));
    expect(verdicts.slice(SAMPLES_TO_PROBLEM - 1)).toEqual(['black', 'black', 'black']);
  });

  it('a covered lens is black from the first dark sample (the step into the dark is not motion), never frozen first', () => {
    const { verdicts } = run([scene(11), scene(12), ...Array.from({ length: SAMPLES_TO_PROBLEM }, () => flat(0))]);
    expect(verdicts.slice(0, -1).every((verdict) => verdict === 'ok')).toBe(true);
    expect(verdicts.at(-1)).toBe('black');
  });

  it('black with an encoder\'s noise and a small logo on it is still black', () => {
    const pictures = Array.from({ length: SAMPLES_TO_PROBLEM }, (_, i) => {
      const luma = noisy(flat(8), i, 3);
      luma.fill(230, 0, Math.floor(CELLS * 0.03)); // 3 % of the picture: a logo
      return luma;
    });
    expect(run(pictures).state.verdict).toBe('black');
  });

  it('frozen: the same textured picture again and again', () => {
    const still = scene(1);
    const { verdicts } = run(Array.from({ length: SAMPLES_TO_PROBLEM + 1 }, () => still));
    expect(verdicts.slice(0, SAMPLES_TO_PROBLEM - 1).every((verdict) => verdict === 'ok')).toBe(true);
    expect(verdicts.at(-1)).toBe('frozen');
  });

  it('a frozen picture that changes by a level or two (a decoder rounding) is frozen', () => {
    const still = scene(2);
    const pictures = Array.from({ length: SAMPLES_TO_PROBLEM }, (_, i) => noisy(still, i, 1));
    expect(run(pictures).state.verdict).toBe('frozen');
  });

  it('a live camera on a still scene (sensor noise) is neither frozen nor black', () => {
    const still = scene(3);
    const { verdicts } = run(Array.from({ length: SAMPLES_TO_PROBLEM * 3 }, (_, i) => noisy(still, 100 + i)));
    expect(new Set(verdicts)).toEqual(new Set(['ok']));
  });

  it('pure noise (a camera with no picture, snow) is not said to be anything', () => {
    const { verdicts } = run(Array.from({ length: SAMPLES_TO_PROBLEM * 2 }, (_, i) => scene(200 + i)));
    expect(new Set(verdicts)).toEqual(new Set(['ok']));
  });

  it('a dark room in which something moves is not black', () => {
    // Everything at most DARK_LUMA, but a dim shape moves across the picture.
    const pictures = Array.from({ length: SAMPLES_TO_PROBLEM * 2 }, (_, i) => {
      const luma = noisy(flat(6), 300 + i, 2);
      const column = (i * 7) % SAMPLE_WIDTH;
      for (let row = 10; row < 30; row++) for (let x = column; x < Math.min(SAMPLE_WIDTH, column + 6); x++) luma[row * SAMPLE_WIDTH + x] = DARK_LUMA;
      return luma;
    });
    const { verdicts } = run(pictures);
    expect(new Set(verdicts)).toEqual(new Set(['ok']));
  });

  it('a dim picture with something visible in it (a lit face) is not black', () => {
    const pictures = Array.from({ length: SAMPLES_TO_PROBLEM * 2 }, (_, i) => {
      const luma = noisy(flat(10), 400 + i, 3);
      luma.fill(90, CELLS / 2, CELLS / 2 + CELLS / 8); // an eighth of the picture lit
      return luma;
    });
    expect(run(pictures).verdicts).not.toContain('black');
  });

  it('recovery: the first live picture after black or frozen clears it at once', () => {
    const black = run(Array.from({ length: SAMPLES_TO_PROBLEM }, () => flat(0)));
    expect(black.state.verdict).toBe('black');
    const back = run([scene(5), noisy(scene(5), 6)], black.state, SAMPLES_TO_PROBLEM * EVERY_MS);
    expect(back.verdicts).toEqual(['ok', 'ok']);

    const still = scene(7);
    const frozen = run(Array.from({ length: SAMPLES_TO_PROBLEM }, () => still));
    expect(frozen.state.verdict).toBe('frozen');
    expect(run([noisy(still, 8)], frozen.state, SAMPLES_TO_PROBLEM * EVERY_MS).verdicts).toEqual(['ok']);
  });

  it('a gap (no frame, a hidden tab) starts over: nothing is said until PROBLEM_AFTER_MS after it', () => {
    const before = run(Array.from({ length: SAMPLES_TO_PROBLEM }, () => flat(0)));
    expect(before.state.verdict).toBe('black');
    const after = run([null, flat(0), flat(0)], before.state, SAMPLES_TO_PROBLEM * EVERY_MS);
    expect(after.verdicts).toEqual(['ok', 'ok', 'ok']);
  });

  it('a picture of another size (the stranger changed camera) is a change', () => {
    const first = run(Array.from({ length: SAMPLES_TO_PROBLEM - 1 }, () => scene(9)));
    const resized = nextPicture(first.state, { at: SAMPLES_TO_PROBLEM * EVERY_MS, luma: scene(9).slice(0, CELLS / 2) });
    expect(resized.verdict).toBe('ok');
    expect(resized.stillSince).toBeNull();
  });

  it('luma of RGBA pixels weights green most (Rec. 709)', () => {
    expect([...lumaOf([255, 255, 255, 255, 0, 0, 0, 255, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255])]).toEqual([255, 0, 53, 182, 18]);
  });
});
