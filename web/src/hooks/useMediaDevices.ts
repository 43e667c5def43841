import { useCallback, useEffect, useRef, useState } from 'react';
import { usePersistentState } from './usePersistentFlag';

/** One camera or microphone the page can offer. label is empty until the browser allows the camera. */
export interface DeviceOption {
  id: string;
  label: string;
}

export type DeviceKind = 'videoinput' | 'audioinput';

/** What the browser says of the camera permission; unknown where it cannot say. */
export type CameraPermission = 'granted' | 'denied' | 'prompt' | 'unknown';

export interface MediaDevices {
  cameras: DeviceOption[];
  microphones: DeviceOption[];
  /** The devices the user chose (remembered in this browser); null: the browser's default. */
  chosen: Record<DeviceKind, string | null>;
  choose: (kind: DeviceKind, id: string) => void;
  /** Reads the list again (after the browser allowed the camera, labels and ids appear). */
  refresh: () => Promise<void>;
  /** The camera permission: 'denied' means the browser blocks it for this site until the user allows it. */
  permission: CameraPermission;
}

export const DEVICE_STORAGE_KEYS: Record<DeviceKind, string> = {
  videoinput: 'gomegle.camera',
  audioinput: 'gomegle.microphone',
};

const parseDevice = (stored: string | null) => (stored === '' ? null : stored);
const formatDevice = (id: string | null) => id ?? '';

function options(devices: MediaDeviceInfo[], kind: DeviceKind): DeviceOption[] {
  return devices.filter((device) => device.kind === kind && device.deviceId !== '').map((device) => ({ id: device.deviceId, label: device.label }));
}

/**
 * The cameras and microphones of this device, and the ones the user chose: read when the page
 * starts, when devices come and go (devicechange), and when asked (after the browser allowed
 * the camera; before that it names no device). The choice is remembered in localStorage as the
 * browser's device ids, which are this site's own and mean nothing elsewhere.
 */
export function useMediaDevices(): MediaDevices {
  const [cameras, setCameras] = useState<DeviceOption[]>([]);
  const [microphones, setMicrophones] = useState<DeviceOption[]>([]);
  const [camera, setCamera] = usePersistentState(DEVICE_STORAGE_KEYS.videoinput, parseDevice, formatDevice);
  const [microphone, setMicrophone] = usePersistentState(DEVICE_STORAGE_KEYS.audioinput, parseDevice, formatDevice);
  const [permission, setPermission] = useState<CameraPermission>('unknown');
  const mountedRef = useRef(true);

  const refresh = useCallback(async () => {
    try {
      const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
      if (!mountedRef.current) return;
      setCameras(options(devices, 'videoinput'));
      setMicrophones(options(devices, 'audioinput'));
    } catch {
      // leave the lists as they were
    }
  }, []);

  useEffect(() => {
    mountedRef.current = true;
    void refresh();
    const listeners = new AbortController();
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void refresh(), { signal: listeners.signal });
    // A blocked camera is worth a clear word before Start; the permission can change while the page is open.
    navigator.permissions
      ?.query({ name: 'camera' as PermissionName })
      .then((status) => {
        if (listeners.signal.aborted) return;
        const read = () => setPermission(status.state);
        read();
        status.addEventListener('change', () => {
          read();
          void refresh();
        }, { signal: listeners.signal });
      })
      .catch(() => undefined); // a browser that cannot say: unknown
    return () => {
      mountedRef.current = false;
      listeners.abort();
    };
  }, [refresh]);

  const choose = useCallback(
    (kind: DeviceKind, id: string) => (kind === 'videoinput' ? setCamera(id) : setMicrophone(id)),
    [setCamera, setMicrophone],
  );

  return { cameras, microphones, chosen: { videoinput: camera, audioinput: microphone }, choose, refresh, permission };
}
