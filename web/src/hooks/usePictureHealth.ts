import { useEffect, useState, type RefObject } from 'react';
import { pause } from '../nsfw/stills';
import { initialPicture, nextPicture, type PictureVerdict } from '../picture/health';
import { createPictureSampler, SAMPLE_MEASURE, type PictureSampler } from '../picture/sample';

export interface PictureHealthOptions {
  /** The stranger's <video>. */
  video: RefObject<HTMLVideoElement | null>;
  /** The stranger's stream: sampled while there is one. */
  stream: MediaStream | null;
  /** The current video match; null between matches and in text chats. */
  matchID: string | null;
  /**
   * False while the stranger's page says its camera is off: that is said as "Camera off"
   * already (and its picture is black on purpose), so nothing is sampled, and what was seen
   * before counts for nothing once it is back on.
   */
  cameraOn: boolean;
  /** How often a sample is taken (the nudity check's cadence). */
  intervalMs: number;
  /** Takes a sample (default: a small canvas of picture/sample.ts; tests pass a fake; null: none possible, nothing is said). */
  sampler?: PictureSampler | null;
}

/**
 * Whether the stranger's video is black or frozen (picture/health.ts decides): one small
 * sample of it every intervalMs, drawn and read in this page; nothing leaves the browser.
 * 'ok' while nothing is known (no match, no stream, camera off).
 */
export function usePictureHealth(options: PictureHealthOptions): PictureVerdict {
  const { video, stream, matchID, cameraOn, intervalMs } = options;
  // Made once per page: its canvas is reused for every sample.
  const [ownSampler] = useState(() => (options.sampler === undefined ? createPictureSampler() : null));
  const sampler = options.sampler === undefined ? ownSampler : options.sampler;
  const [verdict, setVerdict] = useState<PictureVerdict>('ok');

  useEffect(() => {
    setVerdict('ok');
    if (!sampler || !matchID || !stream || !cameraOn) return;
    const loop = new AbortController();
    const run = async () => {
      let state = initialPicture;
      while (!loop.signal.aborted) {
        const element = video.current;
        const began = performance.now();
        // A hidden tab's video may not be painted: that says nothing about the stranger's camera.
        const luma = element && document.visibilityState !== 'hidden' ? sampler(element) : null;
        const at = performance.now();
        if (luma) performance.measure(SAMPLE_MEASURE, { start: began, duration: at - began });
        state = nextPicture(state, luma && { at, luma });
        setVerdict(state.verdict);
        await pause(intervalMs, loop.signal);
      }
    };
    run().catch(() => undefined); // aborted: the match, the stream or the camera changed
    return () => loop.abort();
  }, [sampler, matchID, stream, cameraOn, video, intervalMs]);

  return verdict;
}
