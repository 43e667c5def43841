import { useEffect, useRef, useState } from 'react';

/** What happened while the page was hidden. */
export type Alert = 'connected' | 'message';

/** When the match and message sounds play: never, only while the tab is in the background, or always. */
export type SoundSetting = 'off' | 'background' | 'always';
export const SOUND_SETTINGS: readonly SoundSetting[] = ['off', 'background', 'always'];

export interface AttentionOptions {
  /** The page's title while nothing needs attention (translated). */
  title: string;
  /** Title texts while hidden, per alert (translated); shown after a "● ". */
  alertTitles: Record<Alert, string>;
  /** The current match; a new one while the page is hidden means a stranger connected. */
  matchID: string | null;
  /** Id of the stranger's latest chat line; a new one while hidden means a new message. */
  lastStrangerLine: number | null;
  /** When to play a sound: with the title change in a background tab, also in front, or never. */
  sound: SoundSetting;
  /** Plays the alert sound (default: a short tone made with WebAudio). */
  play?: () => void;
  /** The document whose visibility and title are used (tests). */
  doc?: Document;
}

/** A short two-note chime, synthesised here: nothing is fetched. */
export function playChime(context: AudioContext): void {
  const start = context.currentTime + 0.01;
  [660, 880].forEach((frequency, i) => {
    const at = start + i * 0.14;
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.13);
  });
}

/**
 * Draws a user back to a background tab: while the page is hidden, a stranger
 * connecting or writing changes the title (and plays a sound unless sounds are off);
 * the title comes back as soon as the page is visible again. With sounds 'always' the
 * sound also plays while the page is in front (the title stays).
 */
export function useAttention(options: AttentionOptions): Alert | null {
  const { title, alertTitles, matchID, lastStrangerLine, sound, play, doc = document } = options;
  const [alert, setAlert] = useState<Alert | null>(null);
  const audioRef = useRef<AudioContext | null>(null);

  const soundRef = useRef(sound);
  const playRef = useRef(play);
  soundRef.current = sound;
  playRef.current = play;

  useEffect(
    () => () => {
      void audioRef.current?.close().catch(() => undefined);
      audioRef.current = null;
    },
    [],
  );

  const notifyRef = useRef<(what: Alert) => void>(() => {});
  notifyRef.current = (what: Alert) => {
    const hidden = doc.visibilityState === 'hidden';
    if (hidden) setAlert(what);
    if (soundRef.current === 'off' || (!hidden && soundRef.current !== 'always')) return;
    if (playRef.current) {
      playRef.current();
      return;
    }
    try {
      const AudioContextClass = window.AudioContext;
      if (!AudioContextClass) return;
      audioRef.current ??= new AudioContextClass();
      const context = audioRef.current;
      void context.resume().then(() => playChime(context), () => undefined);
    } catch {
      // no audio here; the title still changed
    }
  };

  useEffect(() => {
    const listeners = new AbortController();
    doc.addEventListener(
      'visibilitychange',
      () => {
        if (doc.visibilityState === 'visible') setAlert(null);
      },
      { signal: listeners.signal },
    );
    return () => listeners.abort();
  }, [doc]);

  // Each change is noticed once, also under StrictMode's repeated effects.
  const seenMatchRef = useRef<string | null>(null);
  useEffect(() => {
    if (matchID === seenMatchRef.current) return;
    seenMatchRef.current = matchID;
    if (matchID) notifyRef.current('connected');
  }, [matchID]);

  const seenLineRef = useRef<number | null>(null);
  useEffect(() => {
    if (lastStrangerLine === seenLineRef.current) return;
    seenLineRef.current = lastStrangerLine;
    if (lastStrangerLine !== null) notifyRef.current('message');
  }, [lastStrangerLine]);

  const alertTitle = alert ? alertTitles[alert] : null;
  useEffect(() => {
    doc.title = alertTitle ? `● ${alertTitle}` : title;
  }, [doc, title, alertTitle]);

  return alert;
}
