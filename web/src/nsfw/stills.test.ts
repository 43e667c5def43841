import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pause } from './stills';

describe('pause', () => {
  it('leaves no abort listener behind once it has waited (a long call pauses thousands of times)', async () => {
    const loop = new AbortController();
    for (let i = 0; i < 20; i++) await pause(0, loop.signal);
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the reason when aborted while waiting', async () => {
    const loop = new AbortController();
    const waiting = pause(60_000, loop.signal);
    loop.abort(new Error('match over'));
    await expect(waiting).rejects.toThrow('match over');
  });
});
