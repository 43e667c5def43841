// Messages between the page and the proof-of-work worker.
import type { PowChallenge } from '../protocol';

export type SolverRequest = Pick<PowChallenge, 'algorithm' | 'challenge' | 'maxnumber' | 'salt'>;

export type SolverResponse =
  | { type: 'solved'; number: number }
  /** No number in range hashes to the challenge: not a challenge of ours. */
  | { type: 'unsolved' }
  | { type: 'failed'; message: string }
  /** Still searching: the part of the range tried so far (0 to 1). */
  | { type: 'progress'; checked: number };
