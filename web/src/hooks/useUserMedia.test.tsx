import { act, renderHook } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCameraStream, FakeMediaStream, FakeMediaStreamTrack, installBrowserFakes } from '../test/fakes';
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

describe('useUserMedia: switching between front and rear camera', () => {
  // The camera getUserMedia opens: the one asked for by facingMode.
  const open = vi.fn(async (constraints?: MediaStreamConstraints) => {
    const video = constraints?.video;
    const facing = typeof video === 'object' && typeof video.facingMode === 'string' ? video.facingMode : 'user';
    const tracks = [new FakeMediaStreamTrack('video', facing)];
    if (constraints?.audio) tracks.unshift(new FakeMediaStreamTrack('audio'));
    return new FakeMediaStream(tracks);
  });
  beforeEach(() => open.mockClear());

  async function started(cameras: number) {
    const devices = installBrowserFakes(open, { cameras });
    const hook = renderHook(() => useUserMedia());
    await act(async () => {
      await hook.result.current.request();
    });
    return { ...hook, devices };
  }

  it('offers switching only with more than one camera, and follows devices being plugged in', async () => {
    const { result, devices } = await started(1);
    expect(result.current.canSwitchCamera).toBe(false);
    devices.cameras = 2;
    await act(async () => {
      devices.emit('devicechange', {});
    });
    expect(result.current.canSwitchCamera).toBe(true);
  });

  it('opens the other camera, keeps the microphone, stops the old camera and hands back the new track', async () => {
    const { result } = await started(2);
    expect(result.current.canSwitchCamera).toBe(true);
    expect(result.current.facingMode).toBe('user');
    const before = result.current.stream as unknown as FakeMediaStream;
    const [microphone] = before.getAudioTracks();
    const [front] = before.getVideoTracks();
    act(() => result.current.toggleVideo()); // camera off stays off on the other camera

    let track: MediaStreamTrack | null = null;
    await act(async () => {
      track = await result.current.switchCamera();
    });
    expect(open).toHaveBeenLastCalledWith({ video: { facingMode: 'environment' }, audio: false });
    const rear = track as unknown as FakeMediaStreamTrack;
    expect(rear.facingMode).toBe('environment');
    expect(rear.enabled).toBe(false);
    expect(front.stopped).toBe(true);
    expect(microphone.stopped).toBe(false);
    const after = result.current.stream as unknown as FakeMediaStream;
    expect(after).not.toBe(before);
    expect(after.getTracks()).toEqual([microphone, rear]);
    expect(result.current.facingMode).toBe('environment');

    await act(async () => {
      track = await result.current.switchCamera();
    });
    expect((track as unknown as FakeMediaStreamTrack).facingMode).toBe('user');
    expect(rear.stopped).toBe(true);

    act(() => result.current.release());
    expect((result.current.stream as unknown) ?? null).toBeNull();
    expect((track as unknown as FakeMediaStreamTrack).stopped).toBe(true);
  });

  it('when the other camera cannot be opened, goes back to the one it had', async () => {
    const { result } = await started(2);
    open.mockRejectedValueOnce(new DOMException('no rear camera', 'OverconstrainedError'));
    let track: MediaStreamTrack | null = null;
    await act(async () => {
      track = await result.current.switchCamera();
    });
    expect((track as unknown as FakeMediaStreamTrack).facingMode).toBe('user');
    expect(result.current.facingMode).toBe('user');
    expect(result.current.error).toBeNull();
  });
});
