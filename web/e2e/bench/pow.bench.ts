// How long the page takes to solve the proof of work, at several POW_MAX_NUMBER values:
// each page load gets a fresh challenge (its number uniformly random in [0, maxnumber])
// and solves it in a new Web Worker; the page's own measure ('gomegle:pow-solve', from
// creating the worker to the answer) is read after each load.
import { test } from '../fixtures';
import { machineLoad, record, show, summarize } from './stats';

const MAX_NUMBERS = (process.env.BENCH_POW_MAX_NUMBERS ?? '10000,20000,30000,50000,100000').split(',').map(Number);
const SOLVES = Number(process.env.BENCH_POW_SOLVES ?? 20);

test('proof-of-work solve time in headless Chromium', async ({ goServer, stranger }) => {
  const results: Record<string, unknown> = {};
  for (const maxNumber of MAX_NUMBERS) {
    const server = await goServer({ env: { POW_MAX_NUMBER: String(maxNumber) } });
    const { page } = await stranger(server.url);
    const times: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < SOLVES; i++) {
      if (i > 0) await page.reload();
      const entry = await page.waitForFunction(() => {
        const [measure] = performance.getEntriesByName('gomegle:pow-solve') as PerformanceMeasure[];
        return measure ? { duration: measure.duration, number: (measure.detail as { number: number }).number } : null;
      });
      const { duration, number } = (await entry.jsonValue())!;
      times.push(duration);
      if (number > 1000) rates.push(number / duration);
    }
    const summary = summarize(times);
    const rate = summarize(rates);
    console.log(`POW_MAX_NUMBER ${maxNumber}: ${show(summary)}; ${rate.median.toFixed(1)} hashes/ms (median); ${machineLoad()}`);
    results[maxNumber] = { ms: summary, hashesPerMs: rate, raw: times };
  }
  record('pow', results);
});
