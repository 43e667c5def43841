import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import { i18n, LANGUAGE_STORAGE_KEY } from './i18n';
import { detectLanguage, matchLanguage, textDirection } from './languages';
import { FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

describe('language detection', () => {
  it.each([
    ['pt-BR', 'pt'],
    ['es_MX', 'es'],
    ['AR', 'ar'],
    ['zh-CN', null],
    ['', null],
  ])('%j → %j', (tag, want) => {
    expect(matchLanguage(tag)).toBe(want);
  });

  it('prefers the remembered choice, then the first supported browser language, then English', () => {
    expect(detectLanguage('de', ['ar', 'en'])).toBe('de');
    expect(detectLanguage(null, ['zh-TW', 'ru-RU', 'en'])).toBe('ru');
    expect(detectLanguage('klingon', ['ja'])).toBe('en');
    expect(detectLanguage(null, [])).toBe('en');
  });

  it('knows which languages run right to left', () => {
    expect(textDirection('ar')).toBe('rtl');
    expect(textDirection('ar-EG')).toBe('rtl');
    expect(textDirection('hi')).toBe('ltr');
  });
});

describe('the language switcher', () => {
  beforeEach(() => installBrowserFakes(() => Promise.reject(new Error('unused'))));

  it('loads the chosen language, mirrors the page for Arabic and remembers the choice', async () => {
    const user = userEvent.setup();
    render(<App />);
    act(() => {
      FakeWebSocket.latest().serverOpen();
      FakeWebSocket.latest().serverSend(hello('me', { online: 3 }));
    });
    expect(document.documentElement).toHaveAttribute('lang', 'en');
    expect(document.documentElement).toHaveAttribute('dir', 'ltr');

    await user.selectOptions(screen.getByRole('combobox', { name: 'Language' }), 'ar');
    expect(await screen.findByRole('heading', { name: 'تحدّث مع الغرباء' })).toBeInTheDocument();
    expect(document.documentElement).toHaveAttribute('lang', 'ar');
    expect(document.documentElement).toHaveAttribute('dir', 'rtl');
    expect(window.localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe('ar');
    expect(screen.getByRole('button', { name: 'ابدأ' })).toBeInTheDocument();
    expect(document.title).toBe('Go-Megle: تحدّث مع الغرباء');

    await user.selectOptions(screen.getByRole('combobox', { name: 'اللغة' }), 'es');
    expect(await screen.findByRole('heading', { name: 'Habla con desconocidos' })).toBeInTheDocument();
    expect(document.documentElement).toHaveAttribute('dir', 'ltr');
    expect(screen.getByTestId('online')).toHaveTextContent('3 en línea');
    expect(window.localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe('es');
    expect(i18n.language).toBe('es');
  });
});
