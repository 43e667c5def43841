// Solves one proof-of-work challenge off the page's main thread with altcha-lib's
// v1 (SHA-256) solver: the number n in [0, maxnumber] with SHA-256(salt + n) = challenge.
// The range is tried in chunks, with a progress message after each: an address that opens
// many connections gets a far larger range (README: POW_FREE_RATE), and the page then says
// how far it has got.
import { solveChallenge } from 'altcha-lib/v1';
import type { SolverRequest, SolverResponse } from './protocol';

/** Numbers tried between progress messages: about 0.1 s in a page. */
const CHUNK = 5_000;

interface WorkerScope {
  onmessage: ((event: MessageEvent<SolverRequest>) => void) | null;
  postMessage(message: SolverResponse): void;
}
const scope = self as unknown as WorkerScope;

async function solve({ challenge, salt, algorithm, maxnumber }: SolverRequest): Promise<SolverResponse> {
  for (let start = 0; start <= maxnumber; start += CHUNK) {
    const end = Math.min(start + CHUNK - 1, maxnumber);
    const solution = await solveChallenge(challenge, salt, algorithm, end, start).promise;
    if (solution) return { type: 'solved', number: solution.number };
    if (end < maxnumber) scope.postMessage({ type: 'progress', checked: (end + 1) / (maxnumber + 1) });
  }
  return { type: 'unsolved' };
}

scope.onmessage = (event) => {
  solve(event.data).then(
    (answer) => scope.postMessage(answer),
    (error: unknown) => scope.postMessage({ type: 'failed', message: String(error) }),
  );
};
