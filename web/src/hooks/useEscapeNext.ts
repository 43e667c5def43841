import { useEffect, useRef, useState } from 'react';

/** How long one Esc keeps Next armed: a second Esc within it skips the stranger. */
export const ESC_ARM_MS = 3_000;

export interface EscapeNextOptions {
  /** Esc does anything at all (in a chat, not banned). */
  enabled: boolean;
  /** There is someone to lose: the first Esc only arms Next, the second skips. Otherwise one Esc is Next. */
  confirm: boolean;
  next: () => void;
  /** What an armed Next is about (the match): when it changes, Next is disarmed. */
  scope?: string | null;
  /** Where the keys are listened for (tests). */
  target?: Window;
}

/** A field that takes text, where Esc belongs to what is being written (a draft, a choice). */
export function isTextEntry(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'reset', 'submit', 'color', 'file', 'image'].includes(target.type);
}

/**
 * Esc as Omegle had it: in a chat, the first Esc arms Next for ESC_ARM_MS ("Press Esc
 * again…"), the second skips the stranger. Esc in a text field (the message box: the user is
 * writing), during an IME composition (Esc ends the composition in Chinese, Japanese or
 * Korean input) or already handled (a dialog's) never does anything here. Returns whether
 * Next is armed.
 */
export function useEscapeNext({ enabled, confirm, next, scope = null, target = window }: EscapeNextOptions): boolean {
  const [armed, setArmed] = useState(false);
  const armedRef = useRef(false);
  const nextRef = useRef(next);
  const confirmRef = useRef(confirm);
  nextRef.current = next;
  confirmRef.current = confirm;

  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (on: boolean) => {
      clearTimeout(timer);
      armedRef.current = on;
      setArmed(on);
      if (on) timer = setTimeout(() => arm(false), ESC_ARM_MS);
    };
    const listeners = new AbortController();
    target.addEventListener(
      'keydown',
      (event) => {
        // keyCode 229: a key the IME took, in browsers that leave isComposing unset on it
        if (event.key !== 'Escape' || event.defaultPrevented || event.isComposing || event.keyCode === 229) return;
        if (isTextEntry(event.target)) return;
        event.preventDefault();
        if (confirmRef.current && !armedRef.current) {
          arm(true);
          return;
        }
        arm(false);
        nextRef.current();
      },
      { signal: listeners.signal },
    );
    return () => {
      listeners.abort();
      clearTimeout(timer);
      armedRef.current = false;
      setArmed(false);
    };
  }, [enabled, target]);

  // A new stranger (or none) starts unarmed.
  useEffect(() => {
    armedRef.current = false;
    setArmed(false);
  }, [confirm, scope]);

  return armed;
}
