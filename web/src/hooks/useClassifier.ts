import { useCallback, useEffect, useRef, useState } from 'react';
import { createClassifier, type Classifier, type ClassifierFactory } from '../nsfw/classifier';
import type { Backend } from '../nsfw/protocol';

/** A classifier that never loads: where this browser has no Web Worker or createImageBitmap (or in jsdom). */
export function unavailableClassifier(): Classifier {
  const error = new Error('this browser cannot run the nudity classifier');
  const ready = Promise.reject(error);
  ready.catch(() => undefined);
  return { ready, classify: () => Promise.reject(error), dispose: () => undefined };
}

export function classifierSupported(): boolean {
  return typeof Worker !== 'undefined' && typeof createImageBitmap !== 'undefined';
}

/** The page's classifier: the real one where it can run, one that says unavailable elsewhere. */
export function defaultClassifierFactory(backends?: readonly Backend[]): ClassifierFactory {
  return () => (classifierSupported() ? createClassifier({ backends }) : unavailableClassifier());
}

export interface ClassifierHandle {
  /** The classifier once a video chat asked for it; null until then (and after release). */
  classifier: Classifier | null;
  /** The classifier, created (and its model loading started) on first use. */
  get: () => Classifier;
  /** Frees it (its worker and model); the next get starts again. */
  release: () => void;
}

/**
 * Owns the nudity classifier, created lazily: the landing page and text chats never
 * load TF.js or the model. Disposed of on unmount.
 */
export function useClassifier(factory: ClassifierFactory): ClassifierHandle {
  const ref = useRef<Classifier | null>(null);
  const factoryRef = useRef(factory);
  factoryRef.current = factory;
  const [classifier, setClassifier] = useState<Classifier | null>(null);

  const get = useCallback(() => {
    if (!ref.current) {
      ref.current = factoryRef.current();
      setClassifier(ref.current);
    }
    return ref.current;
  }, []);

  const release = useCallback(() => {
    ref.current?.dispose();
    ref.current = null;
    setClassifier(null);
  }, []);

  useEffect(
    () => () => {
      ref.current?.dispose();
      ref.current = null;
    },
    [],
  );

  return { classifier, get, release };
}
