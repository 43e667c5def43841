import { createHash } from 'node:crypto';
import { createChallenge, solveChallenge, verifySolution } from 'altcha-lib/v1';
import { describe, expect, it } from 'vitest';
import type { PowChallenge } from '../protocol';
import { powPayload, solveInWorker } from './solve';

// A challenge as the server makes it (pow.go): salt "<hex>?expires=<unix>&", SHA-256(salt + n).
function serverLikeChallenge(number: number, maxnumber: number): PowChallenge {
  const salt = `0123456789abcdef01234567?expires=${Math.floor(Date.now() / 1000) + 600}&`;
  const challenge = createHash('sha256').update(salt + number).digest('hex');
  return { algorithm: 'SHA-256', challenge, maxnumber, salt, signature: 'signed-by-the-server' };
}

describe('the proof-of-work answer', () => {
  it('is base64 of the ALTCHA payload JSON, which altcha-lib itself verifies', async () => {
    const hmacKey = 'test key';
    const challenge = (await createChallenge({ hmacKey, maxNumber: 2_000 })) as PowChallenge;
    const solution = await solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber).promise;
    expect(solution).not.toBeNull();
    const payload = powPayload(challenge, solution!.number);
    expect(JSON.parse(atob(payload))).toEqual({
      algorithm: 'SHA-256',
      challenge: challenge.challenge,
      number: solution!.number,
      salt: challenge.salt,
      signature: challenge.signature,
    });
    expect(await verifySolution(payload, hmacKey)).toBe(true);
  });

  it('solves a challenge in the server format (here, without a Worker, on the page itself)', async () => {
    expect(typeof Worker).toBe('undefined'); // jsdom: the fallback path
    const challenge = serverLikeChallenge(1_234, 5_000);
    const payload = await solveInWorker(challenge, new AbortController().signal);
    const answer = JSON.parse(atob(payload)) as { number: number; salt: string; challenge: string };
    expect(answer.number).toBe(1_234);
    expect(createHash('sha256').update(answer.salt + answer.number).digest('hex')).toBe(answer.challenge);
  });

  it('rejects a challenge nothing in range solves, and an aborted solve', async () => {
    const unsolvable = { ...serverLikeChallenge(900, 100), maxnumber: 100 };
    await expect(solveInWorker(unsolvable, new AbortController().signal)).rejects.toThrow(/no solution/);
    const aborted = new AbortController();
    aborted.abort(new Error('gone'));
    await expect(solveInWorker(serverLikeChallenge(1, 10), aborted.signal)).rejects.toThrow('gone');
  });
});
