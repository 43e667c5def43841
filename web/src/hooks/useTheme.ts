import { useEffect } from 'react';
import { parseChoice, readStored, usePersistentChoice } from './usePersistentFlag';

/** The page's colours: the system's (light or dark, as the device is set), or one chosen. */
export type Theme = 'system' | 'light' | 'dark';
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];
export const THEME_STORAGE_KEY = 'gomegle.theme';

/**
 * Puts theme on the document: the stylesheet follows data-theme ('system': the device's
 * light or dark). A page without it (the moderator console) stays dark as it was made.
 */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.dataset.theme = theme;
}

/** The remembered theme, applied before the first render (main.tsx), so nothing flashes in the other one. */
export function applyStoredTheme(root: HTMLElement = document.documentElement): void {
  applyTheme(parseChoice(readStored(THEME_STORAGE_KEY), THEMES, 'system'), root);
}

/** The theme switch: following the system unless the user chose, remembered in this browser. */
export function useTheme(root: HTMLElement = document.documentElement): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = usePersistentChoice(THEME_STORAGE_KEY, THEMES, 'system');
  useEffect(() => applyTheme(theme, root), [theme, root]);
  return [theme, setTheme];
}
