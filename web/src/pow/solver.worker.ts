// Solves one proof-of-work challenge off the page's main thread with altcha-lib's
// v1 (SHA-256) solver: the number n in [0, maxnumber] with SHA-256(salt + n) = challenge.
import { solveChallenge } from 'altcha-lib/v1';
import type { SolverRequest, SolverResponse } from './protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent<SolverRequest>) => void) | null;
  postMessage(message: SolverResponse): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  const { challenge, salt, algorithm, maxnumber } = event.data;
  solveChallenge(challenge, salt, algorithm, maxnumber).promise.then(
    (solution) => scope.postMessage(solution ? { type: 'solved', number: solution.number } : { type: 'unsolved' }),
    (error: unknown) => scope.postMessage({ type: 'failed', message: String(error) }),
  );
};
