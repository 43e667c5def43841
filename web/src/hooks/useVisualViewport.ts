import { useEffect } from 'react';

/**
 * Keeps the app inside the part of the window the user can see. A phone's on-screen keyboard
 * shrinks the visual viewport, and on some browsers (iOS Safari) not the layout viewport that
 * 100dvh measures: the message box would sit under the keyboard. The visual viewport's height
 * and offset go to CSS variables (--app-height, --app-top) that the app's box uses, 100dvh
 * being the fallback where there is no visualViewport.
 */
export function useVisualViewport(root: HTMLElement = document.documentElement, viewport: VisualViewport | null = window.visualViewport): void {
  useEffect(() => {
    if (!viewport) return;
    const clear = () => {
      root.style.removeProperty('--app-height');
      root.style.removeProperty('--app-top');
    };
    const update = () => {
      // pinch-zoomed in: the user pans over the page as it is laid out; nothing follows
      if (viewport.scale > 1.01) return clear();
      root.style.setProperty('--app-height', `${viewport.height}px`);
      root.style.setProperty('--app-top', `${viewport.offsetTop}px`);
    };
    update();
    const listeners = new AbortController();
    viewport.addEventListener('resize', update, { signal: listeners.signal });
    viewport.addEventListener('scroll', update, { signal: listeners.signal });
    return () => {
      listeners.abort();
      clear();
    };
  }, [root, viewport]);
}
