import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Mode } from '../protocol';
import type { CameraProblem } from '../hooks/useCameraCheck';
import type { MediaError } from '../hooks/useUserMedia';
import type { SignalingStatus } from '../hooks/useSignaling';
import type { Transcript } from '../hooks/useTranscript';
import type { ReportButton } from './Controls';
import { DevicePicker, type DevicePickerProps } from './DevicePicker';
import { SpokenLanguages } from './SpokenLanguages';
import type { SpokenLanguages as Spoken } from '../hooks/useSpokenLanguages';
import { errorKey } from './errors';
import { InterestsInput } from './InterestsInput';
import { TranscriptActions } from './TranscriptActions';

export interface LandingProps {
  interests: string[];
  mode: Mode;
  busy: boolean;
  /** The first Start checks the user's own camera for nudity before searching. */
  checking: boolean;
  /** That check scored the camera unsafe: the warning, and no search until Start is pressed again. */
  selfWarning: boolean;
  /** The camera's picture is black, or it is a virtual camera: the warning, and no search until Start is pressed again. */
  cameraWarning: CameraProblem | null;
  mediaError: MediaError | null;
  /** The browser blocks the camera for this site (its permission says so): how to allow it, before Start. */
  cameraBlocked: boolean;
  /** The camera and microphone to choose from (the browser names them once it allowed the camera); null: none known. */
  devices: DevicePickerProps | null;
  /** Asks the browser for the camera, so that its devices can be named and chosen; null when they are. */
  onAllowDevices: (() => void) | null;
  /**
   * "Hide my address from strangers": on or off (remembered), and whether this server can
   * (it has a TURN relay; null: not known yet). Offered for video chats only.
   */
  hideAddress: { on: boolean; available: boolean | null; onChange: (on: boolean) => void };
  /** An error code from the server to tell the user about. */
  notice: string | null;
  /** The socket's state: a lost or superseded socket is worth a word. */
  connection: SignalingStatus;
  /** Reporting the stranger of the chat that was just stopped (for a short while after); null: nothing to report. */
  report: ReportButton | null;
  /** The chat that was just stopped, to save or copy; null: none. */
  transcript: Transcript | null;
  onInterests: (tags: string[]) => void;
  /** The languages the user speaks, and "only my language". */
  speaks: Spoken;
  onMode: (mode: Mode) => void;
  onStart: (mode: Mode) => void;
}

export function Landing(props: LandingProps) {
  const { interests, mode, busy, checking, selfWarning, mediaError, notice, connection, report, transcript } = props;
  const { t } = useTranslation();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onStart(mode);
  };
  const blocked = mediaError === 'denied' || props.cameraBlocked;
  return (
    <main className="landing">
      <div className="landing-body">
        <h1>{t('landing.heading')}</h1>
        <p className="tagline">{t('landing.tagline')}</p>

        {mediaError && (
          <div className="notice notice-warn" role="alert" data-testid="media-error">
            <p>
              {t(`media.${mediaError}`)} {t('landing.textStillPossible')}
            </p>
            {blocked && <p data-testid="camera-blocked-hint">{t('media.blockedHow')}</p>}
            <div className="notice-actions">
              <button type="button" className="primary" onClick={() => props.onStart('text')}>
                {t('landing.continueText')}
              </button>
              <button type="button" onClick={() => props.onStart('video')}>
                {t('landing.retryCamera')}
              </button>
            </div>
          </div>
        )}
        {!mediaError && blocked && mode === 'video' && (
          <div className="notice notice-warn" data-testid="camera-blocked">
            <p>
              <strong>{t('media.blocked')}</strong> {t('media.blockedHow')}
            </p>
          </div>
        )}
        {selfWarning && (
          <div className="notice notice-warn" role="alert" data-testid="self-warning">
            <p>
              <strong>{t('nudity.selfWarning')}</strong>
            </p>
            <p>
              {t('nudity.selfFlagged')} {t('nudity.selfStartAgain')}
            </p>
          </div>
        )}
        {props.cameraWarning && (
          <div className="notice notice-warn" role="alert" data-testid="camera-warning" data-problem={props.cameraWarning.kind}>
            {props.cameraWarning.kind === 'black' ? (
              <p>
                <strong>{t('picture.ownBlack')}</strong> {t('picture.ownBlackHow')}
              </p>
            ) : (
              <p>
                <strong>{t('picture.ownVirtual', { label: props.cameraWarning.label })}</strong> {t('picture.ownVirtualHow')}
              </p>
            )}
            <p>{t('picture.ownStartAgain')}</p>
          </div>
        )}
        {(notice || connection === 'reconnecting' || connection === 'replaced') && (
          <p className="notice notice-warn" role="alert">
            {notice ? t(errorKey(notice)) : t(connection === 'replaced' ? 'status.replaced' : 'status.reconnecting')}
          </p>
        )}

        {(report || transcript) && (
          <div className="after-chat">
            {report && (
              <button type="button" className="report" aria-haspopup="dialog" onClick={report.onReport} data-testid="report">
                {t(`controls.${report.label}`)}
              </button>
            )}
            {transcript && <TranscriptActions transcript={transcript} />}
          </div>
        )}

        <form className="start-form" onSubmit={submit} aria-busy={busy}>
          <InterestsInput value={interests} onChange={props.onInterests} />
          <SpokenLanguages {...props.speaks} />
          <fieldset className="modes">
            <legend>{t('landing.chatWith')}</legend>
            <label>
              <input type="radio" name="mode" value="video" checked={mode === 'video'} onChange={() => props.onMode('video')} />
              {t('landing.modeVideo')}
            </label>
            <label>
              <input type="radio" name="mode" value="text" checked={mode === 'text'} onChange={() => props.onMode('text')} />
              {t('landing.modeText')}
            </label>
          </fieldset>
          {mode === 'video' && props.devices && <DevicePicker {...props.devices} />}
          {mode === 'video' && !props.devices && props.onAllowDevices && !blocked && (
            <p className="devices-ask">
              <button type="button" className="link" onClick={props.onAllowDevices} data-testid="allow-devices">
                {t('landing.chooseDevices')}
              </button>
            </p>
          )}
          {mode === 'video' && <HideAddress {...props.hideAddress} />}
          <button type="submit" className="primary start" disabled={busy}>
            {checking ? t('landing.checking') : busy ? t('landing.starting') : t('landing.start')}
          </button>
        </form>
        <p className="fineprint">{t('landing.fineprint')}</p>
      </div>
    </main>
  );
}

/** The option, where the server has a relay; where it has none, a word to a user who turned it on before. */
function HideAddress({ on, available, onChange }: LandingProps['hideAddress']) {
  const { t } = useTranslation();
  if (available === null) return null;
  if (!available) {
    return on ? (
      <p className="help" data-testid="hide-address-unavailable">
        {t('privacy.unavailable')}
      </p>
    ) : null;
  }
  return (
    <div className="hide-address">
      <label className="check">
        <input type="checkbox" checked={on} onChange={(event) => onChange(event.target.checked)} aria-describedby="hide-address-help" />
        {t('privacy.hideAddress')}
      </label>
      <p id="hide-address-help" className="help">
        {t('privacy.hideAddressHelp')}
      </p>
    </div>
  );
}
