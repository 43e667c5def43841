import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { callTimeoutsFrom } from './hooks/useCallOutcome';
import { initI18n } from './i18n';
import { isConsolePath } from './routes';
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

// The moderator console is a chunk of its own, fetched only at /mod.
async function page(): Promise<ReactNode> {
  if (!isConsolePath(window.location.pathname)) return <App callTimeouts={callTimeouts} />;
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
