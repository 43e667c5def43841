import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { languages } from '../languages';
import { TopBar, type TopBarProps } from './TopBar';

function setup(props: Partial<TopBarProps> = {}) {
  const all: TopBarProps = {
    online: 7,
    language: 'en',
    languages,
    sounds: 'background',
    protect: true,
    autoNext: false,
    theme: 'system',
    onLanguage: vi.fn(),
    onSounds: vi.fn(),
    onProtect: vi.fn(),
    onAutoNext: vi.fn(),
    onTheme: vi.fn(),
    ...props,
  };
  render(
    <div>
      <TopBar {...all} />
      <p>elsewhere</p>
    </div>,
  );
  return all;
}

describe('TopBar', () => {
  it('every setting is labelled and says what it does; sounds say when they play', async () => {
    const props = setup();
    expect(screen.getByTestId('online')).toHaveTextContent('7 online');
    const sounds = screen.getByRole('combobox', { name: 'Match and message sounds' });
    expect([...(sounds as HTMLSelectElement).options].map((o) => o.text)).toEqual([
      'Off',
      'Only when the tab is hidden',
      'Always, even with the tab open',
    ]);
    await userEvent.selectOptions(sounds, 'always');
    expect(props.onSounds).toHaveBeenCalledWith('always');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Theme' }), 'Dark');
    expect(props.onTheme).toHaveBeenCalledWith('dark');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Find a new stranger automatically' }));
    expect(props.onAutoNext).toHaveBeenCalledWith(true);
  });

  it('the settings menu (small screens): the button opens it, Esc closes it and gives focus back, a click elsewhere closes it', async () => {
    setup();
    const toggle = screen.getByRole('button', { name: 'Settings' });
    const menu = screen.getByTestId('settings');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(toggle).toHaveAttribute('aria-controls', menu.id);
    expect(menu).toHaveAttribute('data-open', 'false');
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(menu).toHaveAttribute('data-open', 'true');
    screen.getByRole('combobox', { name: 'Theme' }).focus();
    const page = vi.fn();
    window.addEventListener('keydown', (event) => !event.defaultPrevented && page(), { once: true });
    await userEvent.keyboard('{Escape}');
    expect(menu).toHaveAttribute('data-open', 'false');
    expect(toggle).toHaveFocus();
    expect(page).not.toHaveBeenCalled(); // the menu's Esc is not the page's (Next)
    await userEvent.click(toggle);
    await userEvent.click(screen.getByText('elsewhere'));
    expect(menu).toHaveAttribute('data-open', 'false');
  });

  it('a banned page says neither a count nor "Connecting…"', () => {
    setup({ online: null, offline: true });
    expect(screen.queryByTestId('online')).not.toBeInTheDocument();
    expect(screen.queryByText('Connecting…')).not.toBeInTheDocument();
  });
});
