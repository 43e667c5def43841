// The nudity protection's settings: defaults, and what the browser tests' hook
// (window.goMegleTest.nudity) may change, clamped so a page can only ever run a sane check.
import { DEFAULT_BACKENDS } from './classifier';
import type { Backend } from './protocol';
import { DEFAULT_THRESHOLDS, thresholdsFrom, type Thresholds } from './scores';

/** "Blur unsafe video" (localStorage): on unless the user turned it off. */
export const BLUR_STORAGE_KEY = 'gomegle.blurUnsafe';

export interface NudityConfig {
  /** How often a still of the stranger's video is classified. */
  intervalMs: number;
  thresholds: Thresholds;
  /** The TF.js backends the worker tries, in order. */
  backends: readonly Backend[];
  /**
   * How long the first video Start waits for the check of the user's own camera (the model
   * may still be loading) before searching anyway; a later unsafe result still warns.
   */
  selfCheckWaitMs: number;
}

export const DEFAULT_NUDITY_CONFIG: NudityConfig = { intervalMs: 2_000, thresholds: DEFAULT_THRESHOLDS, backends: DEFAULT_BACKENDS, selfCheckWaitMs: 5_000 };

/** A number of milliseconds from the hook, within [min, max]; anything else is the fallback. */
function clampedMs(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

const knownBackends: ReadonlySet<string> = new Set<Backend>(['wasm', 'webgl', 'cpu']);

/**
 * The hook's values: interval 0.25–60 s, thresholds 0–1, backends among wasm, webgl and cpu,
 * the own camera's check waited for 1–120 s (a browser test on a loaded machine waits for the
 * model longer than a user would).
 */
export function nudityConfigFrom(config: unknown): NudityConfig {
  if (typeof config !== 'object' || config === null) return DEFAULT_NUDITY_CONFIG;
  const { intervalMs, unsafe, sexy, backends, selfCheckWaitMs } = config as {
    intervalMs?: unknown;
    unsafe?: unknown;
    sexy?: unknown;
    backends?: unknown;
    selfCheckWaitMs?: unknown;
  };
  const chosen = Array.isArray(backends) ? backends.filter((name): name is Backend => typeof name === 'string' && knownBackends.has(name)) : [];
  return {
    intervalMs: clampedMs(intervalMs, 250, 60_000, DEFAULT_NUDITY_CONFIG.intervalMs),
    thresholds: thresholdsFrom({ unsafe, sexy }),
    backends: chosen.length > 0 ? chosen : DEFAULT_NUDITY_CONFIG.backends,
    selfCheckWaitMs: clampedMs(selfCheckWaitMs, 1_000, 120_000, DEFAULT_NUDITY_CONFIG.selfCheckWaitMs),
  };
}
