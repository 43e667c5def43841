import { useEffect, useRef, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';

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
}

/** One <video> bound to a MediaStream; shows a placeholder while there is none. */
export function VideoTile({ stream, label, videoLabel, self = false, mirrored = self, placeholder, testID, volume, videoRef: outerRef }: VideoTileProps) {
  const { i18n } = useTranslation();
  const ownRef = useRef<HTMLVideoElement>(null);
  const videoRef = outerRef ?? ownRef;
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

  return (
    <figure className={`tile ${self ? 'tile-self' : 'tile-remote'}${mirrored ? ' tile-mirrored' : ''}`} data-testid={testID}>
      <video ref={videoRef} autoPlay playsInline muted={self} aria-label={videoLabel} hidden={!stream} />
      {!stream && <div className="tile-placeholder">{placeholder}</div>}
      <figcaption className="tile-label">{label}</figcaption>
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
