// Summaries of repeated measurements, and where they are written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { artifactsDir } from '../env';

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Median and nearest-rank p95 (with n = 20, the 19th smallest). */
export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: sorted.length, median, p95: at(0.95), min: sorted[0], max: sorted[sorted.length - 1] };
}

export const show = (s: Summary, unit = 'ms', digits = 0) =>
  `median ${s.median.toFixed(digits)} ${unit}, p95 ${s.p95.toFixed(digits)}, min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)} (n=${s.n})`;

export function record(name: string, data: unknown) {
  const dir = join(artifactsDir, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ measuredAt: new Date().toISOString(), machine: machineLoad(), data }, null, 2) + '\n');
}

/** The machine's 1-minute load average over its CPUs, said with every figure: a shared 2-CPU machine moves them all. */
export function machineLoad(): string {
  return `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`;
}
