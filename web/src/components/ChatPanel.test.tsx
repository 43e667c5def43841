import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ChatLine } from '../hooks/useMatch';
import { ChatPanel, type ChatPanelProps } from './ChatPanel';

const line = (id: number): ChatLine => ({ id, from: id % 2 ? 'stranger' : 'me', text: `line ${id}` });
const lines = (n: number) => Array.from({ length: n }, (_, i) => line(i + 1));

/** jsdom lays nothing out: the log's box is given here, 20 px per line in a 200 px box. */
function layOut(log: HTMLElement) {
  let top = 0;
  Object.defineProperties(log, {
    clientHeight: { configurable: true, get: () => 200 },
    scrollHeight: { configurable: true, get: () => log.querySelectorAll('li').length * 20 },
    scrollTop: {
      configurable: true,
      get: () => top,
      set: (value: number) => {
        top = Math.max(0, Math.min(value, log.scrollHeight - 200));
      },
    },
  });
  return { scrollTo: (value: number) => act(() => ((log.scrollTop = value), log.dispatchEvent(new Event('scroll')))) };
}

function setup(props: Partial<ChatPanelProps> = {}) {
  const onSend = vi.fn();
  const all: ChatPanelProps = { lines: lines(5), partnerTyping: false, commonInterests: [], canSend: true, onSend, onTyping: vi.fn(), ...props };
  const view = render(<ChatPanel {...all} />);
  const log = screen.getByTestId('chat-log');
  const box = layOut(log);
  const show = (n: number) => view.rerender(<ChatPanel {...all} lines={lines(n)} />);
  return { ...view, log, box, show, onSend };
}

describe('ChatPanel: the log follows the conversation', () => {
  it('follows the newest line while the user is at the end', () => {
    const { log, show } = setup();
    show(30);
    expect(log.scrollTop).toBe(30 * 20 - 200);
    show(31);
    expect(log.scrollTop).toBe(31 * 20 - 200);
    expect(screen.queryByRole('button', { name: /New messages/ })).not.toBeInTheDocument();
  });

  it('stays where the user scrolled up to read, says new messages came, and the button brings them back', async () => {
    const { log, box, show } = setup();
    show(30);
    box.scrollTo(100); // reading further up
    show(32);
    expect(log.scrollTop).toBe(100);
    const jump = screen.getByRole('button', { name: /New messages/ });
    await userEvent.click(jump);
    expect(log.scrollTop).toBe(32 * 20 - 200);
    expect(screen.queryByRole('button', { name: /New messages/ })).not.toBeInTheDocument();
  });

  it('scrolling back down to the end by hand also clears it', () => {
    const { box, show } = setup();
    show(30);
    box.scrollTo(0);
    show(31);
    expect(screen.getByRole('button', { name: /New messages/ })).toBeInTheDocument();
    box.scrollTo(31 * 20 - 200);
    expect(screen.queryByRole('button', { name: /New messages/ })).not.toBeInTheDocument();
  });

  it("one's own message always brings the end into view", async () => {
    const { log, box, show, onSend } = setup();
    show(30);
    box.scrollTo(0);
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'mine{Enter}');
    expect(onSend).toHaveBeenCalledWith('mine');
    expect(log.scrollTop).toBe(30 * 20 - 200);
  });

  it('the log can be scrolled with the keyboard (focusable), and long words have room to wrap', () => {
    const { log } = setup({ lines: [{ id: 1, from: 'stranger', text: 'x'.repeat(300) }] });
    expect(log).toHaveAttribute('tabindex', '0');
    expect(screen.getByText('x'.repeat(300)).closest('li')).toHaveClass('line');
  });

  it('without a stranger the box keeps a draft, and Send waits for one', async () => {
    const { onSend } = setup({ canSend: false });
    const box = screen.getByRole('textbox', { name: 'Message' });
    expect(box).toBeEnabled();
    await userEvent.type(box, 'hello there{Enter}');
    expect(onSend).not.toHaveBeenCalled();
    expect(box).toHaveValue('hello there');
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });
});
