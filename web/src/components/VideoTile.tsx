import { useEffect, useRef } from 'react';

export interface VideoTileProps {
  stream: MediaStream | null;
  label: string;
  /** Your own picture: muted (no echo) and mirrored. */
  self?: boolean;
  placeholder: string;
  testID: string;
}

/** One <video> bound to a MediaStream; shows a placeholder while there is none. */
export function VideoTile({ stream, label, self = false, placeholder, testID }: VideoTileProps) {
  const videoRef = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    video.srcObject = stream;
    return () => {
      video.srcObject = null;
    };
  }, [stream]);

  return (
    <figure className={`tile ${self ? 'tile-self' : 'tile-remote'}`} data-testid={testID}>
      <video ref={videoRef} autoPlay playsInline muted={self} aria-label={label} hidden={!stream} />
      {!stream && <div className="tile-placeholder">{placeholder}</div>}
      <figcaption className="tile-label">{label}</figcaption>
    </figure>
  );
}
