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
      return media;
    } catch (err) {
      setError(classifyMediaError(err));
      return null;
    }
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

  return { stream, error, request, release, audioEnabled, videoEnabled, toggleAudio, toggleVideo };
}
