// Solving the server's proof of work (README: Wire protocol, hello.pow) in a Web
// Worker, and the answer find_match carries.
import type { PowChallenge } from '../protocol';
import type { SolverRequest, SolverResponse } from './protocol';

/** find_match.pow: base64 of the ALTCHA payload JSON {algorithm, challenge, number, salt, signature}. */
export function powPayload(challenge: PowChallenge, number: number): string {
  const { algorithm, challenge: hash, salt, signature } = challenge;
  // Only ASCII here (hex, digits, the salt's "?expires=…&"), so btoa takes it as it is.
  return btoa(JSON.stringify({ algorithm, challenge: hash, number, salt, signature }));
}

/**
 * Solves a challenge; resolves to the payload, rejects when it cannot be solved or is aborted.
 * onProgress hears, now and then, the part of the range tried so far (0 to 1).
 */
export type PowSolver = (challenge: PowChallenge, signal: AbortSignal, onProgress?: (checked: number) => void) => Promise<string>;

/** The solver the page uses: a fresh worker per challenge (once per connection), terminated when done. */
export const solveInWorker: PowSolver = (challenge, signal, onProgress) =>
  new Promise<string>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const began = performance.now();
    let worker: Worker;
    try {
      worker = new Worker(new URL('./solver.worker.ts', import.meta.url), { type: 'module', name: 'proof-of-work' });
    } catch (error) {
      console.warn('no proof-of-work worker; solving on the page', error);
      solveHere(challenge, signal).then(resolve, reject);
      return;
    }
    const finish = () => {
      worker.terminate();
      signal.removeEventListener('abort', abort);
    };
    const abort = () => {
      finish();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort);
    worker.addEventListener('message', (event: MessageEvent<SolverResponse>) => {
      const answer = event.data;
      if (answer.type === 'progress') {
        onProgress?.(answer.checked);
        return;
      }
      finish();
      if (answer.type !== 'solved') {
        reject(new Error(answer.type === 'failed' ? `proof of work failed: ${answer.message}` : 'proof of work has no solution'));
        return;
      }
      performance.measure('gomegle:pow-solve', { start: began, duration: performance.now() - began, detail: { maxnumber: challenge.maxnumber, number: answer.number } });
      resolve(powPayload(challenge, answer.number));
    });
    worker.addEventListener('error', (event) => {
      finish();
      reject(new Error(`proof-of-work worker failed: ${event.message}`));
    });
    const request: SolverRequest = { algorithm: challenge.algorithm, challenge: challenge.challenge, maxnumber: challenge.maxnumber, salt: challenge.salt };
    worker.postMessage(request);
  });

/** The same solver on the page's own thread, where no worker can be started (it awaits each hash, so the page stays responsive). */
async function solveHere(challenge: PowChallenge, signal: AbortSignal): Promise<string> {
  const { solveChallenge } = await import('altcha-lib/v1');
  const { promise, controller } = solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber);
  signal.addEventListener('abort', () => controller.abort(), { once: true });
  const solution = await promise;
  if (signal.aborted) throw signal.reason;
  if (!solution) throw new Error('proof of work has no solution');
  return powPayload(challenge, solution.number);
}
