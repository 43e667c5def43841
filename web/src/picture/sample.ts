// Samples of a video's picture for the checks of picture/health.ts: the video drawn into
// a small canvas and read back as luma. The canvas never leaves the page.
import { hasFrame, pause, withStreamVideo } from '../nsfw/stills';
import { initialPicture, lumaOf, nextPicture, SAMPLE_HEIGHT, SAMPLE_WIDTH, type Luma } from './health';

/** Takes a sample of a video's picture as it is now, or null while it has no frame. */
export type PictureSampler = (video: HTMLVideoElement) => Luma | null;

/** The name of the performance measure of each sample of the stranger's video (the bench reads it). */
export const SAMPLE_MEASURE = 'gomegle:picture-sample';

/**
 * A sampler with its own SAMPLE_WIDTH × SAMPLE_HEIGHT canvas (an OffscreenCanvas, kept for
 * CPU reads); null where the browser has none (or in jsdom): then nothing is said about the
 * picture.
 */
export function createPictureSampler(): PictureSampler | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  const context = new OffscreenCanvas(SAMPLE_WIDTH, SAMPLE_HEIGHT).getContext('2d', { willReadFrequently: true });
  if (!context) return null;
  // Averages the cells it shrinks (mipmaps): a lone bright pixel or sensor noise counts for its share.
  context.imageSmoothingQuality = 'medium';
  return (video) => {
    if (!hasFrame(video)) return null;
    context.drawImage(video, 0, 0, SAMPLE_WIDTH, SAMPLE_HEIGHT);
    return lumaOf(context.getImageData(0, 0, SAMPLE_WIDTH, SAMPLE_HEIGHT).data);
  };
}

/** What the check of the user's own camera before Start saw. */
export type CameraPicture = 'ok' | 'black' | 'unknown';

/**
 * How long the own camera is watched before it is called black. A camera's first frames are
 * often dark while it adjusts its exposure, so one dark frame says nothing; the first sample
 * that is not black ends the check at once, so only a black camera waits this long.
 */
export const CAMERA_CHECK_MS = 3_000;
const CAMERA_CHECK_EVERY_MS = 250;

/** Whether the user's own camera sends a black picture (by health.ts's rules, for CAMERA_CHECK_MS). */
export async function checkCameraPicture(stream: MediaStream, signal: AbortSignal, sampler = createPictureSampler()): Promise<CameraPicture> {
  if (!sampler || stream.getVideoTracks().length === 0) return 'unknown';
  return withStreamVideo(stream, signal, async (video) => {
    const began = performance.now();
    let state = initialPicture;
    for (;;) {
      const luma = sampler(video);
      const at = performance.now();
      state = nextPicture(state, luma && { at, luma });
      if (luma && state.blackSince === null) return 'ok';
      if (at - began >= CAMERA_CHECK_MS) return state.blackSince === null ? 'unknown' : 'black';
      await pause(CAMERA_CHECK_EVERY_MS, signal);
    }
  });
}
