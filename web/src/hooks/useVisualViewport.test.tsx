import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useVisualViewport } from './useVisualViewport';

/** A visual viewport the test moves: the on-screen keyboard shrinks it, pinch-zoom scales it. */
class FakeViewport extends EventTarget {
  height = 844;
  offsetTop = 0;
  scale = 1;
  move(change: Partial<Pick<FakeViewport, 'height' | 'offsetTop' | 'scale'>>) {
    Object.assign(this, change);
    act(() => {
      this.dispatchEvent(new Event('resize'));
    });
  }
}

describe('useVisualViewport', () => {
  it('gives the app the visible part of the window: the keyboard opening shrinks it, closing gives it back', () => {
    const root = document.createElement('div');
    const viewport = new FakeViewport();
    const { unmount } = renderHook(() => useVisualViewport(root, viewport as unknown as VisualViewport));
    const vars = () => [root.style.getPropertyValue('--app-height'), root.style.getPropertyValue('--app-top')];
    expect(vars()).toEqual(['844px', '0px']);
    viewport.move({ height: 500, offsetTop: 120 }); // iOS: the keyboard, and the page scrolled under it
    expect(vars()).toEqual(['500px', '120px']);
    viewport.move({ height: 844, offsetTop: 0 });
    expect(vars()).toEqual(['844px', '0px']);
    viewport.move({ height: 422, scale: 2 }); // pinch-zoomed in: the layout stays as it is (100dvh)
    expect(vars()).toEqual(['', '']);
    viewport.move({ height: 600, scale: 1 });
    expect(vars()).toEqual(['600px', '0px']);
    unmount();
    expect(vars()).toEqual(['', '']);
  });

  it('does nothing where there is no visual viewport', () => {
    const root = document.createElement('div');
    renderHook(() => useVisualViewport(root, null));
    expect(root.style.getPropertyValue('--app-height')).toBe('');
  });
});
