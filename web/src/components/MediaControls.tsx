import { useTranslation } from 'react-i18next';
import { DevicePicker, type DevicePickerProps } from './DevicePicker';

export interface MediaControlsProps {
  audioEnabled: boolean;
  videoEnabled: boolean;
  canSwitchCamera: boolean;
  /** The camera and microphone to choose from during the chat; null: nothing to choose. */
  devices: DevicePickerProps | null;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
  onSwitchCamera: () => void;
}

/** Your camera and microphone during a video chat: Mute, Camera, Switch camera, and the pickers. */
export function MediaControls(props: MediaControlsProps) {
  const { t } = useTranslation();
  const { audioEnabled, videoEnabled } = props;
  return (
    <div className="media-controls" role="toolbar" aria-label={t('controls.media')}>
      <button type="button" aria-pressed={!audioEnabled} onClick={props.onToggleAudio}>
        {audioEnabled ? t('controls.mute') : t('controls.unmute')}
      </button>
      <button type="button" aria-pressed={!videoEnabled} onClick={props.onToggleVideo}>
        {videoEnabled ? t('controls.cameraOff') : t('controls.cameraOn')}
      </button>
      {props.canSwitchCamera && (
        <button type="button" onClick={props.onSwitchCamera} data-testid="switch-camera">
          {t('controls.switchCamera')}
        </button>
      )}
      {props.devices && (
        <details className="devices">
          <summary data-testid="devices">
            <span className="devices-label">{t('devices.title')}</span>
          </summary>
          <div className="devices-panel">
            <DevicePicker {...props.devices} />
          </div>
        </details>
      )}
    </div>
  );
}
