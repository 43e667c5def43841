import { act, render, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ESC_ARM_MS, isTextEntry, useEscapeNext, type EscapeNextOptions } from './useEscapeNext';

const esc = (target: EventTarget = document.body, init: KeyboardEventInit = {}) =>
  act(() => {
    target.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true, ...init }));
  });

function setup(initial: Partial<EscapeNextOptions> = {}) {
  const next = vi.fn();
  const props: EscapeNextOptions = { enabled: true, confirm: true, next, scope: 'm1', ...initial };
  const hook = renderHook((p: EscapeNextOptions) => useEscapeNext(p), { initialProps: props, reactStrictMode: true });
  return { ...hook, next, props };
}

describe('useEscapeNext', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('with a stranger: the first Esc arms Next, the second within the time skips', () => {
    const { result, next } = setup();
    esc();
    expect(result.current).toBe(true);
    expect(next).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(ESC_ARM_MS - 100));
    esc();
    expect(next).toHaveBeenCalledTimes(1);
    expect(result.current).toBe(false);
  });

  it('an armed Next lapses after about 3 s: the next Esc only arms it again', () => {
    const { result, next } = setup();
    esc();
    act(() => vi.advanceTimersByTime(ESC_ARM_MS));
    expect(result.current).toBe(false);
    esc();
    expect(next).not.toHaveBeenCalled();
    expect(result.current).toBe(true);
  });

  it('with nobody to lose (searching, the stranger left): one Esc is Next', () => {
    const { next } = setup({ confirm: false });
    esc();
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('never in the message box or another text field, never during an IME composition, never when handled', () => {
    const { result, next } = setup({ confirm: false });
    const box = document.createElement('input');
    const area = document.createElement('textarea');
    const select = document.createElement('select');
    document.body.append(box, area, select);
    try {
      for (const field of [box, area, select]) esc(field);
      esc(document.body, { isComposing: true }); // Esc that ends a composition (Chinese, Japanese, Korean input)
      esc(document.body, { keyCode: 229 } as KeyboardEventInit); // a key the IME took
      const handled = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true });
      handled.preventDefault(); // a dialog's Esc
      act(() => {
        document.body.dispatchEvent(handled);
      });
      expect(next).not.toHaveBeenCalled();
      expect(result.current).toBe(false);
    } finally {
      box.remove();
      area.remove();
      select.remove();
    }
  });

  it('a new stranger starts unarmed, and nothing happens when disabled', () => {
    const { result, rerender, next, props } = setup();
    esc();
    expect(result.current).toBe(true);
    rerender({ ...props, scope: 'm2' });
    expect(result.current).toBe(false);
    esc();
    expect(next).not.toHaveBeenCalled(); // armed again, for m2
    rerender({ ...props, scope: 'm2', enabled: false });
    esc();
    esc();
    expect(next).not.toHaveBeenCalled();
  });
});

describe('isTextEntry', () => {
  it('text fields and editable content take Esc; buttons, checkboxes and sliders do not', () => {
    const { container } = render(
      <div>
        <input type="text" />
        <input type="search" />
        <textarea />
        <div contentEditable suppressContentEditableWarning />
        <button type="button">x</button>
        <input type="checkbox" />
        <input type="range" />
      </div>,
    );
    const [text, search, area, editable, button, checkbox, range] = [...container.querySelectorAll('input, textarea, div[contenteditable], button')];
    Object.defineProperty(editable, 'isContentEditable', { value: true }); // jsdom does not compute it
    expect([text, search, area, editable].map(isTextEntry)).toEqual([true, true, true, true]);
    expect([button, checkbox, range, document.body].map(isTextEntry)).toEqual([false, false, false, false]);
  });
});
