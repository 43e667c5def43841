import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyStoredTheme } from './hooks/useTheme';
import { callTimeoutsFrom } from './hooks/useCallOutcome';
import { initI18n } from './i18n';
import { nudityConfigFrom } from './nsfw/config';
import { isConsolePath } from './routes';
import './styles.css';

declare global {
  interface Window {
    /**
     * Set only by the browser tests (shorter call timeouts; the nudity check's interval,
     * thresholds and TF.js backends, and how long a Start waits for the own camera's check);
     * users never need it.
     */
    goMegleTest?: {
      callSetupMs?: number;
      callRecoveryMs?: number;
      nudity?: { intervalMs?: number; unsafe?: number; sexy?: number; backends?: string[]; selfCheckWaitMs?: number };
    };
  }
}

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
// The app's theme before anything is painted (the console keeps its own dark look).
if (!isConsolePath(window.location.pathname)) applyStoredTheme();
const callTimeouts = callTimeoutsFrom(window.goMegleTest);
const nudity = nudityConfigFrom(window.goMegleTest?.nudity);

// The moderator console is a chunk of its own, fetched only at /mod.
async function page(): Promise<ReactNode> {
  if (!isConsolePath(window.location.pathname)) return <App callTimeouts={callTimeouts} nudity={nudity} />;
  const { ModConsole, loadConsoleStrings } = await import('./mod');
  await loadConsoleStrings();
  return <ModConsole />;
}

// The language's strings first (a chunk of this app for any language but
// English), then the page; if that chunk cannot be loaded the page is English.
void initI18n()
  .catch((error: unknown) => console.warn('translations unavailable', error))
  .then(page)
  .then((view) => {
    createRoot(root).render(<StrictMode>{view}</StrictMode>);
  })
  .catch((error: unknown) => console.error('the page could not be loaded', error));
