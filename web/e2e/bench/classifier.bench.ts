// The nudity classifier in headless Chromium on this machine (--disable-gpu, as in the
// browser tests): model load time and inference time per still for each TF.js backend,
// and whether the call's video keeps being decoded while stills are classified.
import type { Page } from '@playwright/test';
import { expect, expectVideoFlowing, mediaState, startChat, test } from '../fixtures';
import { machineLoad, record, show, summarize } from './stats';

const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,webgl,cpu').split(',');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function measures(page: Page, name: string) {
  return page.evaluate(
    (entryName) => performance.getEntriesByName(entryName).map((entry) => ({ duration: entry.duration, detail: (entry as PerformanceMeasure).detail as Record<string, unknown> })),
    name,
  );
}

test('model load and inference per still, per backend', async ({ goServer, stranger }) => {
  const results: Record<string, unknown> = {};
  for (const backend of BACKENDS) {
    const loads: number[] = [];
    const inference: number[] = [];
    const roundTrip: number[] = [];
    let used = '';
    for (let run = 0; run < RUNS; run++) {
      const server = await goServer();
      // A still every 0.5 s (the page's default is 2 s) to gather enough of them.
      const nudity = { backends: [backend], intervalMs: 500 };
      const a = await stranger(server.url, { nudity });
      const b = await stranger(server.url, { nudity });
      await startChat(a.page);
      await startChat(b.page);
      await expectVideoFlowing(a.page, b.page);
      // As many stills as come within 4 minutes, at most `wanted` (cpu takes seconds per still).
      const wanted = backend === 'wasm' ? 20 : 8;
      await a.page
        .waitForFunction((n) => performance.getEntriesByName('gomegle:nsfw-classify').length >= n, wanted + 1, { timeout: 240_000, polling: 1_000 })
        .catch(() => console.log(`${backend}: fewer than ${wanted} stills within 4 minutes`));
      for (const page of [a.page, b.page]) {
        const [load] = await measures(page, 'gomegle:nsfw-load');
        loads.push(load.duration);
        used = String(load.detail.backend);
      }
      // The first still is the own-camera check (a cold model); the rest are the stranger's.
      const stills = (await measures(a.page, 'gomegle:nsfw-classify')).slice(1);
      inference.push(...stills.map((entry) => Number(entry.detail.inferenceMs)));
      roundTrip.push(...stills.map((entry) => entry.duration));
      await a.context.close();
      await b.context.close();
      await server.stop();
    }
    const summary = { backend: used, load: summarize(loads), inference: summarize(inference), roundTrip: summarize(roundTrip) };
    console.log(`${backend} (used: ${used}): load ${show(summary.load)}; inference ${show(summary.inference)}; with the bitmap and messages ${show(summary.roundTrip)}; ${machineLoad()}`);
    results[backend] = summary;
  }
  record('classifier', results);
});

/** inbound-rtp video framesDecoded per second over windowMs. */
async function decodeRate(page: Page, windowMs: number): Promise<number> {
  const before = (await mediaState(page)).framesDecoded;
  const began = Date.now();
  await page.waitForTimeout(windowMs); // the window being measured
  return (((await mediaState(page)).framesDecoded - before) * 1000) / (Date.now() - began);
}

test('frames decoded per second with and without the classifier running', async ({ goServer, stranger }) => {
  const results: Record<string, unknown> = {};
  const windows = Number(process.env.BENCH_WINDOWS ?? 6);
  for (const intervalMs of [2_000, 250]) {
    const server = await goServer();
    const a = await stranger(server.url, { nudity: { intervalMs } });
    const b = await stranger(server.url, { nudity: { intervalMs } });
    // Only A screens B's video: B's own screening is off, so the two runs differ in A's classifier alone.
    await b.page.getByRole('checkbox', { name: 'Blur unsafe video' }).uncheck();
    await startChat(a.page);
    await startChat(b.page);
    await expectVideoFlowing(a.page, b.page);
    await expect(a.page.getByTestId('remote-video')).toHaveAttribute('data-verdict', 'safe', { timeout: 60_000 });
    const cameraFps = await b.page.evaluate(() => {
      const pc = (window.__peerConnections ?? []).filter((p) => p.connectionState !== 'closed').at(-1);
      return pc?.getSenders().find((sender) => sender.track?.kind === 'video')?.track?.getSettings().frameRate ?? null;
    });
    const toggle = a.page.getByRole('checkbox', { name: 'Blur unsafe video' });
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < windows; i++) {
      await toggle.check();
      on.push(await decodeRate(a.page, 5_000));
      await toggle.uncheck();
      off.push(await decodeRate(a.page, 5_000));
    }
    const stills = (await measures(a.page, 'gomegle:nsfw-classify')).length;
    const summary = { cameraFps, classifierOn: summarize(on), classifierOff: summarize(off), stills };
    console.log(
      `interval ${intervalMs} ms, fake camera ${cameraFps} fps: frames decoded/s with the classifier ${show(summary.classifierOn, 'fps', 1)}; without ${show(summary.classifierOff, 'fps', 1)}; ${stills} stills classified; ${machineLoad()}`,
    );
    results[intervalMs] = summary;
    await a.context.close();
    await b.context.close();
    await server.stop();
  }
  record('frames-decoded', results);
});
