import type { FormEvent } from 'react';
import type { Mode } from '../protocol';
import type { MediaError } from '../hooks/useUserMedia';
import { InterestsInput } from './InterestsInput';

export interface LandingProps {
  interests: string[];
  mode: Mode;
  busy: boolean;
  mediaError: MediaError | null;
  notice: string | null;
  onInterests: (tags: string[]) => void;
  onMode: (mode: Mode) => void;
  onStart: (mode: Mode) => void;
}

const mediaErrorText: Record<MediaError, string> = {
  denied: 'Camera and microphone access was denied, so video chat is not possible.',
  missing: 'No camera or microphone was found on this device.',
  busy: 'Your camera or microphone is in use by another application.',
  unsupported: 'This browser cannot use a camera here (video needs https or localhost).',
  failed: 'Your camera or microphone could not be started.',
};

export function Landing({ interests, mode, busy, mediaError, notice, onInterests, onMode, onStart }: LandingProps) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onStart(mode);
  };
  return (
    <main className="landing">
      <h1>Talk to strangers</h1>
      <p className="tagline">One click pairs you with a random stranger for a video or text chat. No sign-up.</p>

      {mediaError && (
        <div className="notice notice-warn" role="alert" data-testid="media-error">
          <p>{mediaErrorText[mediaError]} You can still chat by text.</p>
          <div className="notice-actions">
            <button type="button" className="primary" onClick={() => onStart('text')}>
              Continue with text only
            </button>
            <button type="button" onClick={() => onStart('video')}>
              Try the camera again
            </button>
          </div>
        </div>
      )}
      {notice && (
        <p className="notice notice-warn" role="alert">
          {notice}
        </p>
      )}

      <form className="start-form" onSubmit={submit} aria-busy={busy}>
        <InterestsInput value={interests} onChange={onInterests} />
        <fieldset className="modes">
          <legend>Chat with</legend>
          <label>
            <input type="radio" name="mode" value="video" checked={mode === 'video'} onChange={() => onMode('video')} />
            Video and text
          </label>
          <label>
            <input type="radio" name="mode" value="text" checked={mode === 'text'} onChange={() => onMode('text')} />
            Text only
          </label>
        </fieldset>
        <button type="submit" className="primary start" disabled={busy}>
          {busy ? 'Starting camera…' : 'Start'}
        </button>
      </form>
      <p className="fineprint">Be kind. Strangers are people too. You can leave any chat at any time with Stop.</p>
    </main>
  );
}
