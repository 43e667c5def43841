import { useCallback, useEffect, useRef, useState } from 'react';

/** Why the camera or microphone could not be used, in words the page can show. */
export type MediaError = 'denied' | 'missing' | 'busy' | 'unsupported' | 'failed';

export interface UserMedia {
  stream: MediaStream | null;
  error: MediaError | null;
  /** Asks for camera and microphone once; resolves to the stream or null (see error). */
  request: () => Promise<MediaStream | null>;
  /** Stops every track and forgets the stream. */
  release: () => void;
  audioEnabled: boolean;
  videoEnabled: boolean;
  toggleAudio: () => void;
  toggleVideo: () => void;
  /** Which camera is in use: front (user) or rear (environment). */
  facingMode: FacingMode;
  /** More than one camera: offer switching between them. */
  canSwitchCamera: boolean;
  /**
   * Opens the other camera (front ↔ rear) in place of the current one and
   * resolves to its video track, for the peer connection's replaceTrack; null
   * when there is no stream or no camera could be opened.
   */
  switchCamera: () => Promise<MediaStreamTrack | null>;
}

export type FacingMode = 'user' | 'environment';

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

/** The local camera and microphone: acquired on request, released on unmount. */
export function useUserMedia(): UserMedia {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<MediaError | null>(null);
  const [audioEnabled, setAudioEnabled] = useState(true);
  const [videoEnabled, setVideoEnabled] = useState(true);
  const [facingMode, setFacingMode] = useState<FacingMode>('user');
  const [cameras, setCameras] = useState(0);
  const streamRef = useRef<MediaStream | null>(null);
  const facingRef = useRef<FacingMode>('user');
  const mountedRef = useRef(true);

  // Device labels and counts are known only once permission is granted.
  const countCameras = useCallback(async () => {
    try {
      const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
      if (mountedRef.current) setCameras(devices.filter((device) => device.kind === 'videoinput').length);
    } catch {
      // leave the count as it was
    }
  }, []);

  const release = useCallback(() => {
    streamRef.current?.getTracks().forEach((track) => track.stop());
    streamRef.current = null;
    setStream(null);
  }, []);

  useEffect(() => {
    const devices = navigator.mediaDevices;
    if (!devices?.addEventListener) return;
    const listeners = new AbortController();
    devices.addEventListener('devicechange', () => void countCameras(), { signal: listeners.signal });
    return () => listeners.abort();
  }, [countCameras]);

  useEffect(() => {
    mountedRef.current = true;
    return () => {
      mountedRef.current = false;
      streamRef.current?.getTracks().forEach((track) => track.stop());
      streamRef.current = null;
    };
  }, []);

  const request = useCallback(async () => {
    if (streamRef.current) return streamRef.current;
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('unsupported');
      return null;
    }
    try {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      if (!mountedRef.current) {
        media.getTracks().forEach((track) => track.stop());
        return null;
      }
      streamRef.current = media;
      setStream(media);
      setError(null);
      setAudioEnabled(true);
      setVideoEnabled(true);
      void countCameras();
      return media;
    } catch (err) {
      setError(classifyMediaError(err));
      return null;
    }
  }, [countCameras]);

  const switchCamera = useCallback(async () => {
    const current = streamRef.current;
    if (!current || !navigator.mediaDevices?.getUserMedia) return null;
    const wanted: FacingMode = facingRef.current === 'user' ? 'environment' : 'user';
    const previous = current.getVideoTracks();
    const enabled = previous.every((track) => track.enabled);
    // Many phones cannot open a second camera while the first is open.
    previous.forEach((track) => track.stop());
    const open = (facing: FacingMode) => navigator.mediaDevices.getUserMedia({ video: { facingMode: facing }, audio: false });
    let media: MediaStream;
    let facing = wanted;
    try {
      media = await open(wanted);
    } catch {
      try {
        facing = facingRef.current; // back to the camera we had
        media = await open(facing);
      } catch (err) {
        if (mountedRef.current) setError(classifyMediaError(err));
        return null;
      }
    }
    const [track] = media.getVideoTracks();
    if (!track || !mountedRef.current || streamRef.current !== current) {
      media.getTracks().forEach((t) => t.stop());
      return null;
    }
    track.enabled = enabled;
    const updated = new MediaStream([...current.getAudioTracks(), track]);
    streamRef.current = updated;
    facingRef.current = facing;
    setStream(updated);
    setFacingMode(facing);
    return track;
  }, []);

  const toggleAudio = useCallback(() => {
    const tracks = streamRef.current?.getAudioTracks() ?? [];
    const next = !tracks.some((track) => track.enabled);
    tracks.forEach((track) => (track.enabled = next));
    setAudioEnabled(next);
  }, []);

  const toggleVideo = useCallback(() => {
    const tracks = streamRef.current?.getVideoTracks() ?? [];
    const next = !tracks.some((track) => track.enabled);
    tracks.forEach((track) => (track.enabled = next));
    setVideoEnabled(next);
  }, []);

  return {
    stream,
    error,
    request,
    release,
    audioEnabled,
    videoEnabled,
    toggleAudio,
    toggleVideo,
    facingMode,
    canSwitchCamera: cameras > 1,
    switchCamera,
  };
}
