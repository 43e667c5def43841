// Reading a server's /metrics: the Prometheus text exposition format, parsed
// into samples (name, labels, value), so tests look values up by metric name
// and labels rather than by matching text.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  labelPair.lastIndex = 0;
  while (labelPair.lastIndex < text.length) {
    const start = labelPair.lastIndex;
    const match = labelPair.exec(text);
    if (!match) {
      if (text.slice(start).trim() === '') break;
      throw new Error(`bad labels in metrics line: ${line}`);
    }
    labels[match[1]] = match[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`bad value in metrics line: ${line}`);
  return value;
}

/** Every sample of an exposition; comments (# HELP, # TYPE) and blank lines are skipped. */
export function parseMetrics(exposition: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of exposition.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    samples.push({ name: match[1], labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3], line) });
  }
  return samples;
}

/** The value of the one sample called name with exactly these labels; throws if there is none. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  const found = samples.filter(
    (s) => s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v),
  );
  if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0].value;
}

/** Scrapes serverURL/metrics and returns the value of one sample. */
export async function scrapeMetric(serverURL: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${serverURL}/metrics`);
  if (!response.ok) throw new Error(`${serverURL}/metrics: HTTP ${response.status}`);
  return sampleValue(parseMetrics(await response.text()), name, labels);
}
