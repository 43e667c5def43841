// The nudity classifier's Web Worker: TensorFlow.js and nsfwjs's MobileNetV2 run
// here, off the page's main thread, so the call's video keeps being decoded while
// a still is classified. Everything it loads (its own code, the model's topology
// and weights, the WebAssembly binaries) is a chunk or asset of this app's build,
// fetched from the same server: nothing comes from a CDN.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import { load, type NSFWJS } from 'nsfwjs/core';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import type { NudityClass, Scores } from './scores';
import type { Backend, WorkerRequest, WorkerResponse } from './protocol';

// No threaded binary: WebAssembly threads need a cross-origin-isolated page, which this
// one is not, so the flag is off and the build does not carry that 435 kB file.
// setWasmPaths wants an entry for it all the same; it is never fetched.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmSimd,
});

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse, options?: StructuredSerializeOptions): void;
}
const scope = self as unknown as WorkerScope;

let model: Promise<NSFWJS> | null = null;

async function start(backends: readonly Backend[]): Promise<{ backend: Backend; ms: number }> {
  const began = performance.now();
  let chosen: Backend | null = null;
  for (const backend of backends) {
    try {
      if (await tf.setBackend(backend)) {
        await tf.ready();
        chosen = backend;
        break;
      }
    } catch (error) {
      console.warn(`TF.js backend ${backend} unavailable`, error);
    }
  }
  if (!chosen) throw new Error(`no TF.js backend of ${backends.join(', ')} works here`);
  tf.enableProdMode();
  model ??= load(MobileNetV2Model.name, { modelDefinitions: [MobileNetV2Model] });
  await model;
  return { backend: chosen, ms: performance.now() - began };
}

async function classify(image: ImageBitmap): Promise<Scores> {
  if (!model) throw new Error('classify before load');
  const net = await model;
  const pixels = tf.browser.fromPixels(image);
  try {
    const predictions = await net.classify(pixels, 5);
    const scores: Scores = { Drawing: 0, Hentai: 0, Neutral: 0, Porn: 0, Sexy: 0 };
    for (const { className, probability } of predictions) scores[className as NudityClass] = probability;
    return scores;
  } finally {
    pixels.dispose();
    image.close();
  }
}

scope.onmessage = (event) => {
  const request = event.data;
  switch (request.type) {
    case 'load':
      start(request.backends).then(
        ({ backend, ms }) => scope.postMessage({ type: 'loaded', backend, ms }),
        (error: unknown) => scope.postMessage({ type: 'failed', message: String(error) }),
      );
      return;
    case 'classify': {
      const began = performance.now();
      classify(request.image).then(
        (scores) => scope.postMessage({ type: 'scores', id: request.id, scores, ms: performance.now() - began }),
        (error: unknown) => scope.postMessage({ type: 'error', id: request.id, message: String(error) }),
      );
      return;
    }
  }
};
