import { useTranslation } from 'react-i18next';

export interface ReportButton {
  label: 'report' | 'reportLast';
  onReport: () => void;
}

export interface ControlsProps {
  video: boolean;
  audioEnabled: boolean;
  videoEnabled: boolean;
  autoNext: boolean;
  /** Next while someone is (or is being) found; New stranger once they left. */
  nextLabel: 'next' | 'newStranger';
  canSwitchCamera: boolean;
  /** The Report button: about the current stranger, or the last one (shortly after they left); null: none. */
  report: ReportButton | null;
  onNext: () => void;
  onStop: () => void;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
  onSwitchCamera: () => void;
  onAutoNext: (value: boolean) => void;
}

export function Controls(props: ControlsProps) {
  const { t } = useTranslation();
  const { video, audioEnabled, videoEnabled, autoNext, nextLabel } = props;
  return (
    <div className="controls" role="toolbar" aria-label={t('controls.toolbar')}>
      <button type="button" className="primary" onClick={props.onNext} aria-keyshortcuts="Escape">
        {t(`controls.${nextLabel}`)} <kbd aria-hidden="true">{t('controls.escKey')}</kbd>
      </button>
      <button type="button" className="danger" onClick={props.onStop}>
        {t('controls.stop')}
      </button>
      {video && (
        <>
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
        </>
      )}
      {props.report && (
        <button type="button" className="report" aria-haspopup="dialog" onClick={props.report.onReport} data-testid="report">
          {t(`controls.${props.report.label}`)}
        </button>
      )}
      <label className="check">
        <input type="checkbox" checked={autoNext} onChange={(event) => props.onAutoNext(event.target.checked)} />
        {t('controls.autoNext')}
      </label>
    </div>
  );
}
