import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { Verdict } from '../nsfw/policy';

/** The nudity protection of the stranger's picture: blurred or not, and what the blur says. */
export interface VideoShield {
  blurred: boolean;
  verdict: Verdict;
  /** Why it is blurred (translated). */
  message: string;
  /** The button that shows it anyway (translated). */
  showLabel: string;
  onShow: () => void;
}

export interface VideoTileProps {
  stream: MediaStream | null;
  /** The caption under the picture. */
  label: string;
  /** What a screen reader calls the video. */
  videoLabel: string;
  /** Your own picture: muted (no echo) and mirrored (the front camera only). */
  self?: boolean;
  mirrored?: boolean;
  placeholder: string;
  testID: string;
  /** The stranger's picture: 0–1, and the slider's label; none for your own. */
  volume?: { value: number; label: string; onChange: (value: number) => void };
  /** Gets the <video> element (the report's still is drawn from the stranger's). */
  videoRef?: RefObject<HTMLVideoElement | null>;
  /** The stranger's picture, screened for nudity; none for your own. */
  shield?: VideoShield | null;
  /** The camera is off (yours, or the stranger's as its page said): this label instead of a black picture. */
  cameraOff?: string | null;
  /** Something is wrong with the stranger's picture (black, frozen): what, and the button that moves on (Next). */
  problem?: { message: string; actionLabel: string; onAction: () => void } | null;
  /** The microphone is off: this label on the picture. */
  muted?: string | null;
  /** Offers full screen for this picture, with the button's labels. */
  fullscreen?: { enter: string; exit: string } | null;
}

interface FullscreenVideo extends HTMLVideoElement {
  /** iPhone Safari: the only way a video goes full screen there. */
  webkitEnterFullscreen?: () => void;
}

/** Full screen for one element: whether it is, and the toggle (false: the browser cannot). */
function useFullscreen(element: RefObject<HTMLElement | null>, video: RefObject<HTMLVideoElement | null>) {
  const [active, setActive] = useState(false);
  useEffect(() => {
    const listeners = new AbortController();
    document.addEventListener('fullscreenchange', () => setActive(document.fullscreenElement === element.current && element.current !== null), {
      signal: listeners.signal,
    });
    return () => listeners.abort();
  }, [element]);
  const supported = document.fullscreenEnabled || typeof (video.current as FullscreenVideo | null)?.webkitEnterFullscreen === 'function';
  const toggle = useCallback(() => {
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
      return;
    }
    const target = element.current;
    if (target?.requestFullscreen && document.fullscreenEnabled) void target.requestFullscreen().catch(() => undefined);
    else (video.current as FullscreenVideo | null)?.webkitEnterFullscreen?.();
  }, [element, video]);
  return { active, supported, toggle };
}

/** One <video> bound to a MediaStream; shows a placeholder while there is none. */
export function VideoTile({
  stream,
  label,
  videoLabel,
  self = false,
  mirrored = self,
  placeholder,
  testID,
  volume,
  videoRef: outerRef,
  shield,
  cameraOff = null,
  problem,
  muted = null,
  fullscreen = null,
}: VideoTileProps) {
  const { i18n } = useTranslation();
  const ownRef = useRef<HTMLVideoElement>(null);
  const videoRef = outerRef ?? ownRef;
  const tileRef = useRef<HTMLElement>(null);
  const full = useFullscreen(tileRef, videoRef);
  const level = volume?.value;

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    video.srcObject = stream;
    return () => {
      video.srcObject = null;
    };
  }, [stream]);

  useEffect(() => {
    const video = videoRef.current;
    if (video && level !== undefined) video.volume = level;
  }, [level, stream]);

  const blurred = Boolean(shield?.blurred && stream);
  const covered = Boolean(cameraOff && stream);
  return (
    <figure
      ref={tileRef}
      className={`tile ${self ? 'tile-self' : 'tile-remote'}${mirrored ? ' tile-mirrored' : ''}${blurred ? ' tile-blurred' : ''}${covered ? ' tile-camera-off' : ''}`}
      data-testid={testID}
      data-verdict={shield?.verdict}
      data-blurred={self ? undefined : String(blurred)}
    >
      <video ref={videoRef} autoPlay playsInline muted={self} aria-label={videoLabel} hidden={!stream} />
      {!stream && <div className="tile-placeholder">{placeholder}</div>}
      {covered && (
        <div className="tile-state" data-testid={`${testID}-camera-off`}>
          {cameraOff}
        </div>
      )}
      {problem !== undefined && stream && (
        // There before it has anything to say, so that a picture going black is announced.
        <div className="tile-problem" aria-live="polite" data-testid={`${testID}-problem`}>
          {problem && !covered && (
            <div className="tile-problem-box">
              <p>{problem.message}</p>
              <button type="button" onClick={problem.onAction} data-testid={`${testID}-problem-next`}>
                {problem.actionLabel}
              </button>
            </div>
          )}
        </div>
      )}
      {shield && stream && (
        // There before it has anything to say, so a blur that comes back is announced.
        <div className="tile-shield" aria-live="polite" data-testid="video-shield">
          {blurred && !covered && (
            <>
              <p>{shield.message}</p>
              <button type="button" onClick={shield.onShow} data-testid="show-anyway">
                {shield.showLabel}
              </button>
            </>
          )}
        </div>
      )}
      <figcaption className="tile-label">
        {label}
        {muted && stream && (
          <>
            {' '}
            <span className="tile-muted" data-testid={`${testID}-muted`}>
              {muted}
            </span>
          </>
        )}
      </figcaption>
      {fullscreen && stream && full.supported && (
        <button type="button" className="tile-fullscreen" onClick={full.toggle} data-testid="fullscreen">
          {full.active ? fullscreen.exit : fullscreen.enter}
        </button>
      )}
      {volume && stream && (
        <input
          className="tile-volume"
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={volume.value}
          aria-label={volume.label}
          aria-valuetext={new Intl.NumberFormat(i18n.language, { style: 'percent' }).format(volume.value)}
          onChange={(event) => volume.onChange(Number(event.target.value))}
          data-testid="remote-volume"
        />
      )}
    </figure>
  );
}
