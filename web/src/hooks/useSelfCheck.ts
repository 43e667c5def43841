import { useCallback, useRef, useState } from 'react';
import type { Classifier } from '../nsfw/classifier';
import { DEFAULT_THRESHOLDS, isUnsafe, type Thresholds } from '../nsfw/scores';
import { DEFAULT_NUDITY_CONFIG } from '../nsfw/config';
import { stillOfStream } from '../nsfw/stills';

export type SelfCheckResult = 'safe' | 'unsafe' | 'unknown';

/** One still of the user's own camera, classified. */
export async function checkOwnCamera(
  classifier: Classifier,
  stream: MediaStream,
  thresholds: Thresholds,
  signal: AbortSignal,
  takeStill: (stream: MediaStream, signal: AbortSignal) => Promise<ImageBitmap | null> = stillOfStream,
): Promise<SelfCheckResult> {
  await classifier.ready;
  const still = await takeStill(stream, signal);
  if (!still) return 'unknown';
  try {
    return isUnsafe(await classifier.classify(still), thresholds) ? 'unsafe' : 'safe';
  } finally {
    still.close();
  }
}

export interface SelfCheckOptions {
  /** The classifier, created on first use. */
  classifier: () => Classifier;
  /** False where no classifier can run: the check is skipped. */
  supported: boolean;
  thresholds?: Thresholds;
  /** How long the first Start waits for the result before searching anyway. */
  waitMs?: number;
  takeStill?: (stream: MediaStream, signal: AbortSignal) => Promise<ImageBitmap | null>;
}

export interface SelfCheck {
  /** "This chat is moderated; nudity gets you banned": the user's own camera scored unsafe. */
  warning: boolean;
  dismiss: () => void;
  /**
   * Checks the user's own camera, once per page, before the first video search:
   * 'search' when it may go ahead (safe, unknown, or not known within waitMs; a
   * later unsafe result still shows the warning), 'warned' when it scored unsafe.
   */
  beforeFirstSearch: (stream: MediaStream) => Promise<'search' | 'warned'>;
}

/** The check of the user's own camera before the first Start of the page (README: nudity protection). */
export function useSelfCheck(options: SelfCheckOptions): SelfCheck {
  const { classifier, supported, thresholds = DEFAULT_THRESHOLDS, waitMs = DEFAULT_NUDITY_CONFIG.selfCheckWaitMs, takeStill } = options;
  const [warning, setWarning] = useState(false);
  const doneRef = useRef(false);

  const beforeFirstSearch = useCallback(
    async (stream: MediaStream): Promise<'search' | 'warned'> => {
      if (doneRef.current || !supported) return 'search';
      doneRef.current = true;
      const result = checkOwnCamera(classifier(), stream, thresholds, new AbortController().signal, takeStill).catch((error: unknown) => {
        console.warn('own camera not checked', error);
        return 'unknown' as const;
      });
      void result.then((verdict) => verdict === 'unsafe' && setWarning(true));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
      const first = await Promise.race([result, late]);
      clearTimeout(timer);
      return first === 'unsafe' ? 'warned' : 'search';
    },
    [classifier, supported, thresholds, waitMs, takeStill],
  );

  const dismiss = useCallback(() => setWarning(false), []);
  return { warning, dismiss, beforeFirstSearch };
}
