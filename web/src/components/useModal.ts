import { useEffect, type KeyboardEvent, type RefObject } from 'react';

const FOCUSABLE = 'button, input, textarea, select, a[href], [tabindex]:not([tabindex="-1"])';

/** What Tab visits in root, in order: a radio group is one stop (its checked radio, or its first). */
export function tabStops(root: HTMLElement): HTMLElement[] {
  const seenGroups = new Set<string>();
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => {
    if ((element as HTMLButtonElement).disabled || element.hidden) return false;
    if (!(element instanceof HTMLInputElement) || element.type !== 'radio' || !element.name) return true;
    if (seenGroups.has(element.name)) return false;
    const group = [...root.querySelectorAll<HTMLInputElement>(`input[type="radio"][name="${element.name}"]`)];
    const stop = group.find((radio) => radio.checked) ?? group[0];
    if (stop !== element) return false;
    seenGroups.add(element.name);
    return true;
  });
}

export interface ModalOptions {
  dialogRef: RefObject<HTMLElement | null>;
  /** Focused when the dialog opens. */
  initialFocus: RefObject<HTMLElement | null>;
  /** Where focus goes when the dialog closes and the element that opened it is gone. */
  fallback: string;
  /** Esc. */
  onCancel: () => void;
  /** Whether Shift+Tab from active leaves the first stop (default: active is first). */
  atFirst?: (active: Element | null, first: HTMLElement) => boolean;
}

/**
 * A modal dialog's keyboard and focus behaviour, shared by every dialog: focus moves
 * in when it opens, focus that lands outside (a click on the page behind, the page
 * moving focus when a stranger arrives) is brought back in, Tab and Shift+Tab cycle
 * inside, Esc cancels (and is marked handled: the page's own Esc shortcut, Next,
 * skips it), and focus returns where it was when it closes. Returns the dialog's
 * onKeyDown.
 */
export function useModal({ dialogRef, initialFocus, fallback, onCancel, atFirst }: ModalOptions) {
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    initialFocus.current?.focus();
    const listeners = new AbortController();
    document.addEventListener(
      'focusin',
      (event) => {
        const dialog = dialogRef.current;
        if (dialog && event.target instanceof Node && !dialog.contains(event.target)) tabStops(dialog)[0]?.focus();
      },
      { signal: listeners.signal },
    );
    return () => {
      listeners.abort();
      const back = opener?.isConnected ? opener : document.querySelector<HTMLElement>(fallback);
      back?.focus();
    };
    // once, when it opens: the refs and the fallback do not change while it is open
  }, []);

  return (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
      return;
    }
    if (event.key !== 'Tab' || !dialogRef.current) return;
    const stops = tabStops(dialogRef.current);
    if (stops.length === 0) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    const active = document.activeElement;
    if (event.shiftKey && (atFirst ? atFirst(active, first) : active === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  };
}
