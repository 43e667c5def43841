import { useCallback, useEffect, useReducer, useRef, type RefObject } from 'react';
import { encodeStill } from '../evidence';
import type { Classifier } from '../nsfw/classifier';
import { initialScreening, isBlurred, nextScreening, reportOffer, type ReportOffer, type Verdict } from '../nsfw/policy';
import { DEFAULT_THRESHOLDS, isUnsafe, type Thresholds } from '../nsfw/scores';
import { frameReady, pause, stillOf } from '../nsfw/stills';

/** How often a still of the stranger's video is classified. */
export const DEFAULT_SCREENING_INTERVAL_MS = 2_000;

export interface NudityScreeningOptions {
  /** The classifier (null: none yet, or a text chat). */
  classifier: Classifier | null;
  /** The stranger's <video>. */
  video: RefObject<HTMLVideoElement | null>;
  /** The stranger's stream: stills are taken while there is one. */
  stream: MediaStream | null;
  /** The current video match; null between matches and in text chats. */
  matchID: string | null;
  /** "Blur unsafe video": off, nothing is classified and nothing blurred. */
  protect: boolean;
  intervalMs?: number;
  thresholds?: Thresholds;
  /** Takes a still of the video once it has a picture (tests pass a fake). */
  takeStill?: (video: HTMLVideoElement, signal: AbortSignal) => Promise<ImageBitmap | null>;
  /** Encodes a flagged still as a report's frame (tests pass a fake). */
  encode?: (still: ImageBitmap) => string | null;
}

export interface NudityScreening {
  blurred: boolean;
  /** The last word on this stranger's video (pending while nothing has been classified). */
  verdict: Verdict;
  showAnyway: () => void;
  /** The one-click nudity report, after enough flagged stills of the current or last stranger (the caller checks it can still be reported). */
  offer: ReportOffer | null;
}

const encodeDefault = (still: ImageBitmap) => encodeStill(still, still.width, still.height);

/** The next still of the stranger's video: as soon as it has a picture. */
async function takeStillDefault(video: HTMLVideoElement, signal: AbortSignal): Promise<ImageBitmap | null> {
  await frameReady(video, signal);
  return stillOf(video);
}

/**
 * Screens the stranger's video for nudity: a still every intervalMs (the first as
 * soon as there is a picture), downscaled and classified off the main thread; the
 * blur policy (nsfw/policy.ts) decides what is shown. Nothing leaves the browser:
 * a flagged still is kept, as a report's frame, only until the conversation ends.
 */
export function useNudityScreening(options: NudityScreeningOptions): NudityScreening {
  const {
    classifier,
    video,
    stream,
    matchID,
    protect,
    intervalMs = DEFAULT_SCREENING_INTERVAL_MS,
    thresholds = DEFAULT_THRESHOLDS,
    takeStill = takeStillDefault,
    encode = encodeDefault,
  } = options;
  const [state, dispatch] = useReducer(nextScreening, initialScreening);

  // Read by the sampling loop without restarting it.
  const thresholdsRef = useRef(thresholds);
  const takeStillRef = useRef(takeStill);
  const encodeRef = useRef(encode);
  thresholdsRef.current = thresholds;
  takeStillRef.current = takeStill;
  encodeRef.current = encode;

  useEffect(() => dispatch({ type: 'match', matchID }), [matchID]);

  // Switched back on: what was seen before says nothing about now.
  const protectedBefore = useRef(protect);
  useEffect(() => {
    if (protect && !protectedBefore.current) dispatch({ type: 'resume' });
    protectedBefore.current = protect;
  }, [protect]);

  useEffect(() => {
    if (!protect || !classifier || !matchID || !stream) return;
    const loop = new AbortController();
    const { signal } = loop;
    const run = async () => {
      try {
        await classifier.ready;
      } catch {
        dispatch({ type: 'unavailable' });
        return;
      }
      while (!signal.aborted) {
        const element = video.current;
        if (element) {
          const still = await takeStillRef.current(element, signal);
          if (still && !signal.aborted) {
            try {
              const scores = await classifier.classify(still);
              const flagged = isUnsafe(scores, thresholdsRef.current);
              const evidence = flagged && !signal.aborted ? encodeRef.current(still) : null;
              if (!signal.aborted) dispatch({ type: 'scores', matchID, scores, thresholds: thresholdsRef.current, evidence });
            } catch (error) {
              if (!signal.aborted) console.warn('nudity check of a still failed', error);
            } finally {
              still.close();
            }
          }
        }
        await pause(intervalMs, signal);
      }
    };
    run().catch(() => undefined); // aborted: the match, the stream or the setting changed
    return () => loop.abort();
  }, [protect, classifier, matchID, stream, video, intervalMs]);

  const showAnyway = useCallback(() => dispatch({ type: 'showAnyway' }), []);

  // Until the reducer has heard of this match, nothing is known about it: blurred.
  const current = matchID === null || state.matchID === matchID;
  return {
    blurred: current ? isBlurred(state, protect) : protect,
    verdict: current ? state.verdict : 'pending',
    showAnyway,
    offer: reportOffer(state),
  };
}
