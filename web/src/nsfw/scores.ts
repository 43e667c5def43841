// What the nudity classifier says about one still, and the rule that turns it into
// "unsafe". The classes are nsfwjs's (its MobileNetV2 model, bundled with this app).

/** nsfwjs's five classes; the probabilities of one still add up to 1. */
export type NudityClass = 'Drawing' | 'Hentai' | 'Neutral' | 'Porn' | 'Sexy';

export type Scores = Record<NudityClass, number>;

export interface Thresholds {
  /** A still is unsafe when Porn + Hentai (+ Sexy, see below) reaches this. */
  unsafe: number;
  /** Sexy counts towards the unsafe score only at or above this (swimwear alone is not nudity). */
  sexy: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { unsafe: 0.5, sexy: 0.8 };

/** The score compared with the unsafe threshold: Porn + Hentai, plus Sexy when Sexy itself is high. */
export function unsafeScore(scores: Scores, thresholds: Thresholds = DEFAULT_THRESHOLDS): number {
  const sexy = scores.Sexy >= thresholds.sexy ? scores.Sexy : 0;
  return scores.Porn + scores.Hentai + sexy;
}

export function isUnsafe(scores: Scores, thresholds: Thresholds = DEFAULT_THRESHOLDS): boolean {
  return unsafeScore(scores, thresholds) >= thresholds.unsafe;
}

const clamp01 = (value: unknown, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : fallback;

/** Thresholds from untrusted input (the browser tests' hook), each clamped to 0–1. */
export function thresholdsFrom(config: { unsafe?: unknown; sexy?: unknown } | undefined): Thresholds {
  return { unsafe: clamp01(config?.unsafe, DEFAULT_THRESHOLDS.unsafe), sexy: clamp01(config?.sexy, DEFAULT_THRESHOLDS.sexy) };
}
