import { useTranslation } from 'react-i18next';
import type { DeviceKind, DeviceOption } from '../hooks/useMediaDevices';

export interface DevicePickerProps {
  cameras: DeviceOption[];
  microphones: DeviceOption[];
  /** The device of each kind shown as chosen (the one in use, else the remembered one). */
  selected: Record<DeviceKind, string | null>;
  onChoose: (kind: DeviceKind, id: string) => void;
}

const kinds = [
  { kind: 'videoinput', label: 'devices.camera', unnamed: 'devices.cameraN', list: 'cameras' },
  { kind: 'audioinput', label: 'devices.microphone', unnamed: 'devices.microphoneN', list: 'microphones' },
] as const;

/** The camera and microphone pickers; a kind with no device to choose from is left out. */
export function DevicePicker(props: DevicePickerProps) {
  const { t } = useTranslation();
  return (
    <div className="device-picker" data-testid="device-picker">
      {kinds.map(({ kind, label, unnamed, list }) => {
        const devices = props[list];
        if (devices.length === 0) return null;
        const selected = props.selected[kind];
        // the browser's default (no choice yet, or a device that has gone) shows as the first
        const value = devices.some((device) => device.id === selected) ? selected! : devices[0].id;
        return (
          <label className="field" key={kind}>
            <span>{t(label)}</span>
            <select value={value} onChange={(event) => props.onChoose(kind, event.target.value)} data-testid={`choose-${kind}`}>
              {devices.map((device, i) => (
                <option key={device.id} value={device.id}>
                  {device.label || t(unnamed, { n: i + 1 })}
                </option>
              ))}
            </select>
          </label>
        );
      })}
    </div>
  );
}
