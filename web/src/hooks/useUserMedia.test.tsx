import { act, renderHook } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCameraStream, type FakeMediaStream, installBrowserFakes } from '../test/fakes';
import { classifyMediaError, useUserMedia } from './useUserMedia';

describe('classifyMediaError', () => {
  it.each([
    ['NotAllowedError', 'denied'],
    ['SecurityError', 'denied'],
    ['NotFoundError', 'missing'],
    ['OverconstrainedError', 'missing'],
    ['NotReadableError', 'busy'],
    ['TypeError', 'failed'],
  ])('%s → %s', (name, want) => {
    expect(classifyMediaError(new DOMException('x', name))).toBe(want);
  });
  it('treats a non-error as failed', () => expect(classifyMediaError('boom')).toBe('failed'));
});

describe('useUserMedia', () => {
  let stream: FakeMediaStream;
  let getUserMedia: ReturnType<typeof vi.fn<() => Promise<unknown>>>;
  beforeEach(() => {
    stream = fakeCameraStream();
    getUserMedia = vi.fn<() => Promise<unknown>>(async () => stream);
    installBrowserFakes(getUserMedia);
  });

  it('asks once, toggles tracks, and stops them on release', async () => {
    const { result } = renderHook(() => useUserMedia());
    await act(async () => {
      await result.current.request();
    });
    await act(async () => {
      await result.current.request(); // already have it
    });
    expect(getUserMedia).toHaveBeenCalledTimes(1);
    expect(result.current.stream).toBe(stream);

    act(() => result.current.toggleAudio());
    expect(result.current.audioEnabled).toBe(false);
    expect(stream.getAudioTracks()[0].enabled).toBe(false);
    act(() => result.current.toggleVideo());
    expect(result.current.videoEnabled).toBe(false);
    expect(stream.getVideoTracks()[0].enabled).toBe(false);
    act(() => result.current.toggleVideo());
    expect(stream.getVideoTracks()[0].enabled).toBe(true);

    act(() => result.current.release());
    expect(result.current.stream).toBeNull();
    expect(stream.getTracks().every((track) => track.stopped)).toBe(true);
  });

  it('reports a refusal without throwing', async () => {
    getUserMedia.mockRejectedValue(new DOMException('no', 'NotAllowedError'));
    const { result } = renderHook(() => useUserMedia());
    let got: unknown;
    await act(async () => {
      got = await result.current.request();
    });
    expect(got).toBeNull();
    expect(result.current.error).toBe('denied');
  });

  it('stops the camera when the component unmounts', async () => {
    const { result, unmount } = renderHook(() => useUserMedia());
    await act(async () => {
      await result.current.request();
    });
    unmount();
    expect(stream.getTracks().every((track) => track.stopped)).toBe(true);
  });

  it('stops a stream that arrives after unmount', async () => {
    let resolve: (value: unknown) => void = () => {};
    getUserMedia.mockReturnValue(new Promise((r) => (resolve = r)));
    const { result, unmount } = renderHook(() => useUserMedia());
    let pending: Promise<unknown> = Promise.resolve();
    act(() => {
      pending = result.current.request();
    });
    unmount();
    resolve(stream);
    expect(await pending).toBeNull();
    expect(stream.getTracks().every((track) => track.stopped)).toBe(true);
  });
});
