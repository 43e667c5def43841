import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { callTimeoutsFrom } from './hooks/useCallOutcome';
import { initI18n } from './i18n';
import './styles.css';

declare global {
  interface Window {
    /** Set only by the browser tests (shorter call timeouts); users never need it. */
    goMegleTest?: { callSetupMs?: number; callRecoveryMs?: number };
  }
}

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
const callTimeouts = callTimeoutsFrom(window.goMegleTest);

// The language's strings first (a chunk of this app for any language but
// English), then the page; if that chunk cannot be loaded the page is English.
void initI18n()
  .catch((error: unknown) => console.warn('translations unavailable', error))
  .finally(() => {
    createRoot(root).render(
      <StrictMode>
        <App callTimeouts={callTimeouts} />
      </StrictMode>,
    );
  });
