// Messages between the page and the classifier's worker.
import type { Scores } from './scores';

/** TF.js backends the worker may use, in the order given. */
export type Backend = 'wasm' | 'webgl' | 'cpu';

export type WorkerRequest =
  | { type: 'load'; backends: readonly Backend[] }
  /** A still already downscaled to the model's input (224 × 224); the worker closes it. */
  | { type: 'classify'; id: number; image: ImageBitmap };

export type WorkerResponse =
  | { type: 'loaded'; backend: Backend; ms: number }
  | { type: 'failed'; message: string }
  | { type: 'scores'; id: number; scores: Scores; ms: number }
  | { type: 'error'; id: number; message: string };
