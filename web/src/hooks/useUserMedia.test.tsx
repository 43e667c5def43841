import { act, renderHook } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { deviceGetUserMedia, fakeCameraStream, FakeMediaStream, FakeMediaStreamTrack, installBrowserFakes } from '../test/fakes';
import { classifyMediaError, useUserMedia, type DeviceChoice, type UserMedia } from './useUserMedia';

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

describe('useUserMedia: the devices chosen', () => {
  const open = vi.fn(deviceGetUserMedia);
  beforeEach(() => {
    open.mockClear();
    installBrowserFakes(open, { cameras: 2, microphones: 2 });
  });

  async function started(prefer?: DeviceChoice) {
    const hook = renderHook(() => useUserMedia());
    await act(async () => {
      await hook.result.current.request(prefer);
    });
    return hook;
  }
  const tracks = (result: { current: UserMedia }) => (result.current.stream as unknown as FakeMediaStream).getTracks();

  it('asks for exactly the remembered devices, and for the defaults without a choice', async () => {
    const { result } = await started({ videoinput: 'camera-1', audioinput: null });
    expect(open).toHaveBeenCalledWith({ video: { deviceId: { exact: 'camera-1' } }, audio: true });
    expect(result.current.inUse).toEqual({ videoinput: 'camera-1', audioinput: 'microphone-0' });
    const plain = await started();
    expect(open).toHaveBeenLastCalledWith({ video: true, audio: true });
    expect(plain.result.current.inUse.videoinput).toBe('camera-0');
  });

  it('a remembered device that has gone (unplugged): the defaults instead, no error', async () => {
    open.mockRejectedValueOnce(new DOMException('no such camera', 'OverconstrainedError'));
    const { result } = await started({ videoinput: 'camera-9' });
    expect(open).toHaveBeenLastCalledWith({ video: true, audio: true });
    expect(result.current.stream).not.toBeNull();
    expect(result.current.error).toBeNull();
  });

  it('opens exactly the chosen camera, keeps the microphone, stops the old camera, and hands back the new track', async () => {
    const { result } = await started();
    const [microphone, front] = tracks(result);
    act(() => result.current.toggleVideo()); // camera off stays off on the other camera

    let track: MediaStreamTrack | null = null;
    await act(async () => {
      track = await result.current.switchDevice('videoinput', 'camera-1');
    });
    expect(open).toHaveBeenLastCalledWith({ video: { deviceId: { exact: 'camera-1' } }, audio: false });
    const other = track as unknown as FakeMediaStreamTrack;
    expect(other.deviceId).toBe('camera-1');
    expect(other.enabled).toBe(false);
    expect(front.stopped).toBe(true);
    expect(microphone.stopped).toBe(false);
    expect(tracks(result)).toEqual([microphone, other]);
    expect(result.current.inUse.videoinput).toBe('camera-1');

    await act(async () => {
      track = await result.current.switchDevice('videoinput', 'camera-1'); // the one in use: nothing to do
    });
    expect(track).toBeNull();
    expect(other.stopped).toBe(false);

    act(() => result.current.release());
    expect(other.stopped).toBe(true);
  });

  it('switches the microphone the same way, muted staying muted', async () => {
    const { result } = await started();
    const [microphone, camera] = tracks(result);
    act(() => result.current.toggleAudio());
    let track: MediaStreamTrack | null = null;
    await act(async () => {
      track = await result.current.switchDevice('audioinput', 'microphone-1');
    });
    expect(open).toHaveBeenLastCalledWith({ audio: { deviceId: { exact: 'microphone-1' } }, video: false });
    const headset = track as unknown as FakeMediaStreamTrack;
    expect(headset.enabled).toBe(false);
    expect(microphone.stopped).toBe(true);
    expect(tracks(result)).toEqual([headset, camera]);
    expect(result.current.inUse.audioinput).toBe('microphone-1');
  });

  it('a camera that cannot be opened: the one it had is opened again, and the call gets that track', async () => {
    const { result } = await started();
    open.mockRejectedValueOnce(new DOMException('in use', 'NotReadableError'));
    let track: MediaStreamTrack | null = null;
    await act(async () => {
      track = await result.current.switchDevice('videoinput', 'camera-1');
    });
    expect(open).toHaveBeenLastCalledWith({ video: { deviceId: { exact: 'camera-0' } }, audio: false });
    expect((track as unknown as FakeMediaStreamTrack).deviceId).toBe('camera-0');
    expect(result.current.inUse.videoinput).toBe('camera-0');
  });

  it('mirrors a front camera, or one that does not say, never a rear one', async () => {
    open.mockImplementationOnce(async () => new FakeMediaStream([new FakeMediaStreamTrack('audio'), new FakeMediaStreamTrack('video', 'environment', 'camera-1')]));
    const { result } = await started();
    expect(result.current.mirrored).toBe(false);
    const laptop = await started();
    expect(laptop.result.current.mirrored).toBe(true);
  });
});
