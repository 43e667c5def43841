// The page's side of the nudity classifier: one Web Worker (created only when a
// video chat needs it, so the landing page and text chats never download TF.js or
// the model), fed stills downscaled to the model's input.
import type { Backend, WorkerRequest, WorkerResponse } from './protocol';
import type { Scores } from './scores';

/** The model's input: nsfwjs's MobileNetV2 takes 224 × 224 pixels. */
export const MODEL_INPUT_SIZE = 224;

/**
 * The TF.js backend order the worker tries: WebAssembly (SIMD) first, the fastest in
 * headless Chromium here by far (BENCHMARKS.md), then WebGL, then plain JavaScript.
 */
export const DEFAULT_BACKENDS: readonly Backend[] = ['wasm', 'webgl', 'cpu'];

export interface ClassifierInfo {
  backend: Backend;
  /** From creating the worker to the model answering its first (warm-up) prediction. */
  loadMs: number;
}

export interface Classifier {
  /** Resolves once the model is loaded; rejects when it cannot be (then every classify rejects too). */
  ready: Promise<ClassifierInfo>;
  /** Scores one still of source, taken now and downscaled to the model's input. */
  classify: (source: ImageBitmapSource) => Promise<Scores>;
  dispose: () => void;
}

/** Creates a classifier (the caller disposes of it). */
export type ClassifierFactory = () => Classifier;

export interface ClassifierOptions {
  backends?: readonly Backend[];
}

export function createClassifier(options: ClassifierOptions = {}): Classifier {
  const backends = options.backends && options.backends.length > 0 ? options.backends : DEFAULT_BACKENDS;
  const began = performance.now();
  const worker = new Worker(new URL('./classifier.worker.ts', import.meta.url), { type: 'module', name: 'nudity-classifier' });
  const pending = new Map<number, { resolve: (scores: Scores) => void; reject: (error: Error) => void; began: number }>();
  let nextID = 0;
  let disposed = false;
  let failure: Error | null = null;

  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  const ready = new Promise<ClassifierInfo>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerResponse>) => {
      const message = event.data;
      switch (message.type) {
        case 'loaded': {
          const loadMs = performance.now() - began;
          performance.measure('gomegle:nsfw-load', { start: began, duration: loadMs, detail: { backend: message.backend, workerMs: message.ms } });
          resolve({ backend: message.backend, loadMs });
          return;
        }
        case 'failed': {
          const error = new Error(`nudity classifier unavailable: ${message.message}`);
          fail(error);
          reject(error);
          return;
        }
        case 'scores':
        case 'error': {
          const waiting = pending.get(message.id);
          if (!waiting) return;
          pending.delete(message.id);
          if (message.type === 'error') {
            waiting.reject(new Error(message.message));
            return;
          }
          performance.measure('gomegle:nsfw-classify', {
            start: waiting.began,
            duration: performance.now() - waiting.began,
            detail: { inferenceMs: message.ms },
          });
          waiting.resolve(message.scores);
          return;
        }
      }
    });
    worker.addEventListener('error', (event) => {
      const error = new Error(`nudity classifier worker failed: ${event.message}`);
      fail(error);
      reject(error);
    });
  });
  ready.catch(() => undefined); // a caller that never awaits it must not see an unhandled rejection

  const request = (message: WorkerRequest, transfer: Transferable[] = []) => worker.postMessage(message, transfer);
  request({ type: 'load', backends });

  const classify = async (source: ImageBitmapSource): Promise<Scores> => {
    if (disposed) throw new Error('classifier disposed');
    if (failure) throw failure;
    const began = performance.now();
    const image = await createImageBitmap(source, { resizeWidth: MODEL_INPUT_SIZE, resizeHeight: MODEL_INPUT_SIZE, resizeQuality: 'medium' });
    if (disposed) {
      image.close();
      throw new Error('classifier disposed');
    }
    nextID += 1;
    const id = nextID;
    const result = new Promise<Scores>((resolve, reject) => pending.set(id, { resolve, reject, began }));
    request({ type: 'classify', id, image }, [image]);
    return result;
  };

  const dispose = () => {
    if (disposed) return;
    disposed = true;
    worker.terminate();
    fail(new Error('classifier disposed'));
  };

  return { ready, classify, dispose };
}
