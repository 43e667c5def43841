import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { playChime, useAttention, type AttentionOptions } from './useAttention';

let visibility: DocumentVisibilityState = 'visible';

/** Makes the page hidden or visible, as switching tabs does. */
function setVisibility(state: DocumentVisibilityState) {
  visibility = state;
  act(() => {
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

type Props = Pick<AttentionOptions, 'matchID' | 'lastStrangerLine' | 'sound' | 'title'>;

function setup(initial: Partial<Props> = {}) {
  const play = vi.fn();
  const props: Props = { matchID: null, lastStrangerLine: null, sound: 'background', title: 'Go-Megle', ...initial };
  const hook = renderHook(
    (p: Props) => useAttention({ ...p, alertTitles: { connected: 'Stranger connected', message: 'New message' }, play }),
    { initialProps: props, reactStrictMode: true },
  );
  return { ...hook, play, props };
}

describe('useAttention', () => {
  beforeEach(() => {
    visibility = 'visible';
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
  });
  afterEach(() => {
    Reflect.deleteProperty(document, 'visibilityState');
  });

  it('sets the page title and changes nothing while the page is visible (sounds in a background tab only)', () => {
    const { rerender, play, props } = setup();
    expect(document.title).toBe('Go-Megle');
    rerender({ ...props, matchID: 'm1' });
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 3 });
    expect(document.title).toBe('Go-Megle');
    expect(play).not.toHaveBeenCalled();
  });

  it('hidden: a stranger connecting changes the title and plays the sound once; visible again restores the title', () => {
    const { rerender, play, props, result } = setup();
    setVisibility('hidden');
    rerender({ ...props, matchID: 'm1' });
    expect(document.title).toBe('● Stranger connected');
    expect(result.current).toBe('connected');
    expect(play).toHaveBeenCalledTimes(1);
    rerender({ ...props, matchID: 'm1' }); // same match: nothing new
    expect(play).toHaveBeenCalledTimes(1);

    setVisibility('visible');
    expect(document.title).toBe('Go-Megle');
    expect(result.current).toBeNull();
  });

  it('hidden: each new message from the stranger alerts; my own lines or the same line do not', () => {
    const { rerender, play, props } = setup({ matchID: 'm1' });
    setVisibility('hidden');
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 2 });
    expect(document.title).toBe('● New message');
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 2 }); // e.g. I wrote something: the stranger's last line is the same
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 5 });
    expect(play).toHaveBeenCalledTimes(2);
  });

  it('sounds off: the title still changes, silently', () => {
    const { rerender, play, props } = setup({ sound: 'off' });
    setVisibility('hidden');
    rerender({ ...props, matchID: 'm1' });
    expect(document.title).toBe('● Stranger connected');
    expect(play).not.toHaveBeenCalled();
  });

  it('sounds always: a new stranger and each message play also while the tab is in front, and the title stays', () => {
    const { rerender, play, props } = setup({ sound: 'always' });
    rerender({ ...props, matchID: 'm1' });
    expect(play).toHaveBeenCalledTimes(1);
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 2 });
    expect(play).toHaveBeenCalledTimes(2);
    expect(document.title).toBe('Go-Megle');
    setVisibility('hidden'); // and in a background tab as before
    rerender({ ...props, matchID: 'm1', lastStrangerLine: 4 });
    expect(play).toHaveBeenCalledTimes(3);
    expect(document.title).toBe('● New message');
  });

  it('follows the page title when the language changes', () => {
    const { rerender, props } = setup();
    rerender({ ...props, title: 'Go-Megle: habla con desconocidos' });
    expect(document.title).toBe('Go-Megle: habla con desconocidos');
  });
});

describe('playChime', () => {
  it('synthesises two short notes with WebAudio oscillators (nothing is fetched)', () => {
    const started: number[] = [];
    const param = () => ({ value: 0, setValueAtTime: vi.fn(), exponentialRampToValueAtTime: vi.fn() });
    const destination = {};
    const connected: unknown[] = [];
    const context = {
      currentTime: 10,
      destination,
      createOscillator: () => {
        const frequency = param();
        const oscillator = {
          type: '',
          frequency,
          connect: (node: unknown) => node,
          start: (at: number) => started.push(frequency.value, at),
          stop: vi.fn(),
        };
        return oscillator;
      },
      createGain: () => ({ gain: param(), connect: (node: unknown) => (connected.push(node), node) }),
    };
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    playChime(context as unknown as AudioContext);
    expect(started).toEqual([660, 10.01, 880, 10.15]);
    expect(connected).toEqual([destination, destination]);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
