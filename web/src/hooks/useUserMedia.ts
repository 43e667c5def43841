import { useCallback, useEffect, useRef, useState } from 'react';
import type { DeviceKind } from './useMediaDevices';

/** Why the camera or microphone could not be used, in words the page can show. */
export type MediaError = 'denied' | 'missing' | 'busy' | 'unsupported' | 'failed';

/** A device to use for each kind; null or absent: the browser's default. */
export type DeviceChoice = Partial<Record<DeviceKind, string | null>>;

export interface UserMedia {
  stream: MediaStream | null;
  error: MediaError | null;
  /** Asks for camera and microphone once (the chosen ones, or the defaults if those have gone); resolves to the stream or null (see error). */
  request: (prefer?: DeviceChoice) => Promise<MediaStream | null>;
  /** Stops every track and forgets the stream. */
  release: () => void;
  audioEnabled: boolean;
  videoEnabled: boolean;
  toggleAudio: () => void;
  toggleVideo: () => void;
  /** The picture is mirrored: a front camera, or one that does not say which way it faces (a laptop's). */
  mirrored: boolean;
  /** The device ids of the tracks in use (null: none, or the browser does not say). */
  inUse: Record<DeviceKind, string | null>;
  /**
   * Opens device id of kind in place of the one in use and resolves to its track, for the
   * peer connection's replaceTrack; muted or off stays so. When that device cannot be opened,
   * the one in use before is opened again and its new track returned (inUse says which);
   * null when there is no stream or nothing could be opened.
   */
  switchDevice: (kind: DeviceKind, id: string) => Promise<MediaStreamTrack | null>;
}

export function classifyMediaError(err: unknown): MediaError {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

function settingsOf(track: MediaStreamTrack | undefined): MediaTrackSettings {
  return track?.getSettings?.() ?? {};
}

function tracksOf(stream: MediaStream, kind: DeviceKind): MediaStreamTrack[] {
  return kind === 'videoinput' ? stream.getVideoTracks() : stream.getAudioTracks();
}

/**
 * A device constraint: exactly this device, or any (the default). Not "ideal": Chromium
 * opens its default camera over an ideal deviceId.
 */
function wanted(id: string | null | undefined): MediaTrackConstraints | boolean {
  return id ? { deviceId: { exact: id } } : true;
}

/** The device asked for is not there (unplugged since it was chosen). */
const gone = (err: unknown) => classifyMediaError(err) === 'missing';

/** The local camera and microphone: acquired on request, released on unmount. */
export function useUserMedia(): UserMedia {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<MediaError | null>(null);
  const [audioEnabled, setAudioEnabled] = useState(true);
  const [videoEnabled, setVideoEnabled] = useState(true);
  const streamRef = useRef<MediaStream | null>(null);
  const mountedRef = useRef(true);

  const release = useCallback(() => {
    streamRef.current?.getTracks().forEach((track) => track.stop());
    streamRef.current = null;
    setStream(null);
  }, []);

  useEffect(() => {
    mountedRef.current = true;
    return () => {
      mountedRef.current = false;
      streamRef.current?.getTracks().forEach((track) => track.stop());
      streamRef.current = null;
    };
  }, []);

  const request = useCallback(async (prefer: DeviceChoice = {}) => {
    if (streamRef.current) return streamRef.current;
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('unsupported');
      return null;
    }
    const open = (choice: DeviceChoice) => navigator.mediaDevices.getUserMedia({ video: wanted(choice.videoinput), audio: wanted(choice.audioinput) });
    try {
      // the devices chosen, or the browser's own if one of them has gone
      const media = await open(prefer).catch((err: unknown) => {
        if (gone(err) && (prefer.videoinput || prefer.audioinput)) return open({});
        throw err;
      });
      if (!mountedRef.current) {
        media.getTracks().forEach((track) => track.stop());
        return null;
      }
      streamRef.current = media;
      setStream(media);
      setError(null);
      setAudioEnabled(true);
      setVideoEnabled(true);
      return media;
    } catch (err) {
      setError(classifyMediaError(err));
      return null;
    }
  }, []);

  const switchDevice = useCallback(async (kind: DeviceKind, id: string) => {
    const current = streamRef.current;
    if (!current || !navigator.mediaDevices?.getUserMedia) return null;
    const previous = tracksOf(current, kind);
    const before = settingsOf(previous[0]).deviceId;
    if (before === id) return null;
    const enabled = previous.every((track) => track.enabled);
    // Many phones cannot open a second camera while the first is open.
    previous.forEach((track) => track.stop());
    const open = (device: string | undefined) =>
      navigator.mediaDevices.getUserMedia(kind === 'videoinput' ? { video: wanted(device), audio: false } : { audio: wanted(device), video: false });
    let media: MediaStream;
    try {
      media = await open(id);
    } catch {
      try {
        media = await open(before); // back to the device we had
      } catch (err) {
        if (mountedRef.current) setError(classifyMediaError(err));
        return null;
      }
    }
    const [track] = tracksOf(media, kind);
    if (!track || !mountedRef.current || streamRef.current !== current) {
      media.getTracks().forEach((t) => t.stop());
      return null;
    }
    track.enabled = enabled;
    const kept = kind === 'videoinput' ? current.getAudioTracks() : current.getVideoTracks();
    const updated = new MediaStream(kind === 'videoinput' ? [...kept, track] : [track, ...kept]);
    streamRef.current = updated;
    setStream(updated);
    return track; // the chosen device's, or the one we had again: the call must send what is open now
  }, []);

  const toggle = useCallback((kind: DeviceKind) => {
    const tracks = streamRef.current ? tracksOf(streamRef.current, kind) : [];
    const next = !tracks.some((track) => track.enabled);
    tracks.forEach((track) => (track.enabled = next));
    (kind === 'videoinput' ? setVideoEnabled : setAudioEnabled)(next);
  }, []);
  const toggleAudio = useCallback(() => toggle('audioinput'), [toggle]);
  const toggleVideo = useCallback(() => toggle('videoinput'), [toggle]);

  const video = stream?.getVideoTracks()[0];
  const audio = stream?.getAudioTracks()[0];
  return {
    stream,
    error,
    request,
    release,
    audioEnabled,
    videoEnabled,
    toggleAudio,
    toggleVideo,
    mirrored: settingsOf(video).facingMode !== 'environment',
    inUse: { videoinput: settingsOf(video).deviceId ?? null, audioinput: settingsOf(audio).deviceId ?? null },
    switchDevice,
  };
}
