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
}

export const DEFAULT_NUDITY_CONFIG: NudityConfig = { intervalMs: 2_000, thresholds: DEFAULT_THRESHOLDS, backends: DEFAULT_BACKENDS };

const knownBackends: ReadonlySet<string> = new Set<Backend>(['wasm', 'webgl', 'cpu']);

/** The hook's values: interval 0.25–60 s, thresholds 0–1, backends among wasm, webgl and cpu. */
export function nudityConfigFrom(config: unknown): NudityConfig {
  if (typeof config !== 'object' || config === null) return DEFAULT_NUDITY_CONFIG;
  const { intervalMs, unsafe, sexy, backends } = config as { intervalMs?: unknown; unsafe?: unknown; sexy?: unknown; backends?: unknown };
  const interval =
    typeof intervalMs === 'number' && Number.isFinite(intervalMs) ? Math.min(60_000, Math.max(250, intervalMs)) : DEFAULT_NUDITY_CONFIG.intervalMs;
  const chosen = Array.isArray(backends) ? backends.filter((name): name is Backend => typeof name === 'string' && knownBackends.has(name)) : [];
  return {
    intervalMs: interval,
    thresholds: thresholdsFrom({ unsafe, sexy }),
    backends: chosen.length > 0 ? chosen : DEFAULT_NUDITY_CONFIG.backends,
  };
}
