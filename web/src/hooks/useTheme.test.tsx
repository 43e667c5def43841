import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseChoice } from './usePersistentFlag';
import { applyStoredTheme, THEME_STORAGE_KEY, THEMES, useTheme } from './useTheme';

describe('useTheme', () => {
  it('follows the system until the user chooses; the choice is put on the document and remembered', () => {
    const root = document.createElement('html');
    const { result } = renderHook(() => useTheme(root));
    expect(result.current[0]).toBe('system');
    expect(root.dataset.theme).toBe('system');
    act(() => result.current[1]('light'));
    expect(root.dataset.theme).toBe('light');
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBe('light');
    const again = renderHook(() => useTheme(root)); // the next page load
    expect(again.result.current[0]).toBe('light');
  });

  it('the remembered theme is applied before the first render; anything else stored is the system', () => {
    const root = document.createElement('html');
    window.localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    applyStoredTheme(root);
    expect(root.dataset.theme).toBe('dark');
    window.localStorage.setItem(THEME_STORAGE_KEY, 'purple');
    applyStoredTheme(root);
    expect(root.dataset.theme).toBe('system');
  });
});

describe('parseChoice', () => {
  it('takes a known choice, maps an earlier version\'s value, and falls back otherwise', () => {
    expect(parseChoice('dark', THEMES, 'system')).toBe('dark');
    expect(parseChoice(null, THEMES, 'system')).toBe('system');
    expect(parseChoice('1', ['off', 'background', 'always'] as const, 'background', { '1': 'background', '0': 'off' })).toBe('background');
    expect(parseChoice('0', ['off', 'background', 'always'] as const, 'background', { '1': 'background', '0': 'off' })).toBe('off');
    expect(parseChoice('toString', ['off'] as const, 'off', {})).toBe('off'); // not a prototype's key
  });
});
