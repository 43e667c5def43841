import { useCallback, useState } from 'react';

/** Reads a remembered value from localStorage; null when there is none or storage is disabled. */
export function readStored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled
  }
}

/**
 * A preference remembered in localStorage (when the browser allows it): parse turns what was
 * stored (null: nothing) into the value, format the value into what is stored.
 */
export function usePersistentState<T>(key: string, parse: (stored: string | null) => T, format: (value: T) => string): [T, (value: T) => void] {
  const [value, setValue] = useState(() => parse(readStored(key)));
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        window.localStorage.setItem(key, format(next));
      } catch {
        // not remembered, still applied
      }
    },
    [key, format],
  );
  return [value, set];
}

const formatFlag = (on: boolean) => (on ? '1' : '0');

/** A boolean preference remembered in localStorage. */
export function usePersistentFlag(key: string, fallback: boolean): [boolean, (value: boolean) => void] {
  return usePersistentState(key, (stored) => (stored === null ? fallback : stored === '1'), formatFlag);
}

const identity = <T,>(value: T) => value;

/**
 * One of a few string choices remembered in localStorage; anything else stored reads as
 * legacy says (an earlier version's value), or as the fallback.
 */
export function usePersistentChoice<T extends string>(
  key: string,
  choices: readonly T[],
  fallback: T,
  legacy: Readonly<Record<string, T>> = {},
): [T, (value: T) => void] {
  return usePersistentState<T>(key, (stored) => parseChoice(stored, choices, fallback, legacy), identity);
}

export function parseChoice<T extends string>(stored: string | null, choices: readonly T[], fallback: T, legacy: Readonly<Record<string, T>> = {}): T {
  if (stored === null) return fallback;
  if ((choices as readonly string[]).includes(stored)) return stored as T;
  return Object.hasOwn(legacy, stored) ? legacy[stored] : fallback;
}
