import { render, renderHook, screen, act } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { ChatPanel } from './ChatPanel';
import { SpokenLanguages } from './SpokenLanguages';
import { ONLY_LANGUAGE_STORAGE_KEY, parseSpoken, SPOKEN_STORAGE_KEY, useSpokenLanguages } from '../hooks/useSpokenLanguages';

function Field({ ui = 'en' }: { ui?: string }) {
  return <SpokenLanguages {...useSpokenLanguages(ui)} />;
}

describe('the languages you speak', () => {
  beforeEach(() => window.localStorage.clear());

  it('starts with the page’s language, adds and removes, at most three, and remembers', async () => {
    render(<Field ui="pt" />);
    const list = screen.getByRole('list', { name: 'Your languages' });
    expect(list).toHaveTextContent('Portuguese');
    const add = screen.getByRole('combobox', { name: 'Add a language' });
    await userEvent.selectOptions(add, 'en');
    await userEvent.selectOptions(add, 'hi');
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Portuguese×', 'English×', 'Hindi×']);
    expect(add).toBeDisabled(); // three is the most the server takes
    expect(window.localStorage.getItem(SPOKEN_STORAGE_KEY)).toBe('pt,en,hi');
    await userEvent.click(screen.getByRole('button', { name: 'Remove English' }));
    expect(window.localStorage.getItem(SPOKEN_STORAGE_KEY)).toBe('pt,hi');
    expect(add).toBeEnabled();
  });

  it('"only my language" is remembered, and offered only with a language', async () => {
    render(<Field />);
    const only = screen.getByRole('checkbox', { name: 'Only people who speak my language' });
    await userEvent.click(only);
    expect(window.localStorage.getItem(ONLY_LANGUAGE_STORAGE_KEY)).toBe('1');
    await userEvent.click(screen.getByRole('button', { name: 'Remove English' }));
    expect(only).toBeDisabled();
    expect(only).not.toBeChecked(); // never sent without a language: the server would refuse it
  });

  it('a page in a language the server does not match on starts with none', () => {
    const { result } = renderHook(() => useSpokenLanguages('xx'));
    expect(result.current.languages).toEqual([]);
    act(() => result.current.setLanguages(['ja', 'zh', 'tr', 'it']));
    expect(result.current.languages).toEqual(['ja', 'zh', 'tr']);
  });

  it('what was stored is read back with the server’s rules', () => {
    expect(parseSpoken(null)).toBeNull();
    expect(parseSpoken('')).toEqual([]);
    expect(parseSpoken('en,xx,en,pt,fr,de')).toEqual(['en', 'pt', 'fr']);
  });

  it('the chat says which language the two share', () => {
    render(<ChatPanel lines={[]} partnerTyping={false} commonInterests={[]} sharedLanguage="ar" canSend onSend={() => {}} onTyping={() => {}} />);
    expect(screen.getByTestId('shared-language')).toHaveTextContent('You both speak Arabic');
  });
});
