// The moderator console's entry: loaded with a dynamic import from main.tsx
// only at /mod, so its code, styles and strings are chunks strangers never fetch.
import { i18n } from '../i18n';

export { ModConsole } from './ModConsole';

/** Loads the console's strings (the `mod` namespace) in the page's language. */
export async function loadConsoleStrings(): Promise<void> {
  await i18n.loadNamespaces('mod');
}
