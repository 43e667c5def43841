import { useCallback, useRef, useState } from 'react';
import { checkCameraPicture, type CameraPicture } from '../picture/sample';
import { isVirtualCamera } from '../picture/virtualCameras';

/** What is wrong with the user's own camera: its picture is black, or it is a known virtual camera (named by its label). */
export type CameraProblem = { kind: 'black' } | { kind: 'virtual'; label: string };

/** The label of the camera a track comes from: the device's, as the browser lists it (the track's own where it is not listed). */
export async function cameraLabel(track: MediaStreamTrack): Promise<string> {
  const { deviceId } = track.getSettings();
  try {
    const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
    const device = devices.find((candidate) => candidate.kind === 'videoinput' && candidate.deviceId === deviceId && candidate.label);
    if (device) return device.label;
  } catch {
    // no list: the track's label says the same on every browser that has one
  }
  return track.label;
}

export interface CameraCheckOptions {
  /** Whether the camera's picture is black (default: picture/sample.ts; tests pass a fake). */
  checkPicture?: (stream: MediaStream, signal: AbortSignal) => Promise<CameraPicture>;
  /** The camera's label (default: cameraLabel; tests pass a fake). */
  labelOf?: (track: MediaStreamTrack) => Promise<string>;
}

export interface CameraCheck {
  /** The warning shown before Start; null: none. */
  problem: CameraProblem | null;
  /**
   * Checks the camera of a video Start: 'warned' (and the warning shown) when it is a
   * virtual camera or its picture is black, else 'search'. A camera the user was warned
   * about goes ahead when Start is pressed again: the user decides.
   */
  beforeSearch: (stream: MediaStream) => Promise<'search' | 'warned'>;
}

/**
 * The check of the user's own camera before a video search (README: a black or frozen
 * picture): a black picture, or a known virtual camera, is worth a word before a stranger
 * sees it. Everything happens in the page; nothing is sent.
 */
export function useCameraCheck(options: CameraCheckOptions = {}): CameraCheck {
  const { checkPicture = checkCameraPicture, labelOf = cameraLabel } = options;
  const [problem, setProblem] = useState<CameraProblem | null>(null);
  // The camera the user was last warned about (its device id, or its label where it has none).
  const warnedRef = useRef<string | null>(null);

  const beforeSearch = useCallback(
    async (stream: MediaStream): Promise<'search' | 'warned'> => {
      const track = stream.getVideoTracks()[0];
      if (!track) return 'search';
      const camera = track.getSettings().deviceId || track.label;
      if (warnedRef.current === camera) {
        setProblem(null);
        return 'search';
      }
      const label = await labelOf(track).catch(() => track.label);
      let found: CameraProblem | null = isVirtualCamera(label) ? { kind: 'virtual', label } : null;
      if (!found) {
        const picture = await checkPicture(stream, new AbortController().signal).catch((error: unknown) => {
          console.warn('own camera picture not checked', error);
          return 'unknown' as const;
        });
        if (picture === 'black') found = { kind: 'black' };
      }
      setProblem(found);
      if (!found) return 'search';
      warnedRef.current = camera;
      return 'warned';
    },
    [checkPicture, labelOf],
  );

  return { problem, beforeSearch };
}
