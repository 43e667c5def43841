import { useEffect, useRef } from 'react';
import type { MatchInfo } from '../protocol';
import type { Signaling } from './useSignaling';

export interface ShareMediaStateOptions {
  send: Signaling['send'];
  /** The current match; only a video match has a camera and microphone to speak of. */
  match: MatchInfo | null;
  camera: boolean;
  mic: boolean;
}

/**
 * Tells the stranger when this page's camera or microphone is off (media_state), so their
 * page says "Camera off" or "Muted" instead of showing a black or silent tile: after
 * match_found when either is off (a page assumes both on until told), and at every change
 * during the match.
 */
export function useShareMediaState({ send, match, camera, mic }: ShareMediaStateOptions): void {
  const toldRef = useRef<{ matchID: string; camera: boolean; mic: boolean } | null>(null);
  const matchID = match?.mode === 'video' ? match.match_id : null;
  useEffect(() => {
    if (!matchID) return;
    const told = toldRef.current?.matchID === matchID ? toldRef.current : { matchID, camera: true, mic: true };
    toldRef.current = { matchID, camera, mic };
    if (told.camera === camera && told.mic === mic) return;
    send({ event: 'media_state', data: { camera, mic } });
  }, [send, matchID, camera, mic]);
}
