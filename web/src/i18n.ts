// The UI's translations: i18next with English bundled into the main chunk and
// every other language a chunk of its own, fetched from this server the first
// time it is chosen (never from anywhere else).
import i18next, { type BackendModule, type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './locales/en/translation.json';
import {
  defaultLanguage,
  detectLanguage,
  LANGUAGE_STORAGE_KEY,
  languages,
  matchLanguage,
  textDirection,
  type LanguageCode,
} from './languages';

export { LANGUAGE_STORAGE_KEY };


type Resources = Record<string, unknown>;

// Every namespace of every language but English's main one: `translation` is the
// app's, `mod` the moderator console's (loaded only by the console, so strangers
// never download it, English included).
const lazyLocales = import.meta.glob<Resources>(['./locales/*/*.json', '!./locales/en/translation.json'], {
  import: 'default',
});

/** An i18next backend that reads the lazily bundled locale files above. */
const bundledLocales: BackendModule = {
  type: 'backend',
  init() {},
  read(language, namespace, callback) {
    const load = lazyLocales[`./locales/${language}/${namespace}.json`];
    if (!load) {
      callback(null, {});
      return;
    }
    load().then(
      (resources) => callback(null, resources),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), false),
    );
  },
};

function readStoredLanguage(storage: Storage | null): string | null {
  try {
    return storage?.getItem(LANGUAGE_STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, blocked cookies)
  }
}

export function storeLanguage(code: LanguageCode, storage: Storage | null = safeLocalStorage()): void {
  try {
    storage?.setItem(LANGUAGE_STORAGE_KEY, code);
  } catch {
    // not remembered, still used
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** lang and dir on <html>, so the browser, screen readers and the CSS follow the language. */
export function applyDocumentLanguage(code: string, root: HTMLElement = document.documentElement): void {
  root.lang = code;
  root.dir = textDirection(code);
}

export interface I18nOptions {
  /** Use this language instead of detecting one (tests). */
  language?: LanguageCode;
  storage?: Storage | null;
  preferred?: readonly string[];
}

/**
 * Initialises the shared i18next instance once: the remembered choice, else the
 * browser's language, else English. Resolves when that language's strings are loaded.
 */
export async function initI18n(options: I18nOptions = {}): Promise<I18n> {
  const storage = options.storage === undefined ? safeLocalStorage() : options.storage;
  const language =
    options.language ?? detectLanguage(readStoredLanguage(storage), options.preferred ?? navigator.languages ?? [navigator.language]);
  if (!i18next.isInitialized) {
    i18next.on('languageChanged', (code) => applyDocumentLanguage(matchLanguage(code) ?? defaultLanguage));
    await i18next
      .use(bundledLocales)
      .use(initReactI18next)
      .init({
        lng: language,
        fallbackLng: defaultLanguage,
        supportedLngs: languages.map((l) => l.code),
        load: 'languageOnly',
        resources: { en: { translation: en } },
        partialBundledLanguages: true,
        interpolation: { escapeValue: false }, // React escapes
        react: { useSuspense: false },
        returnNull: false,
      });
  } else if (i18next.language !== language) {
    await i18next.changeLanguage(language);
  }
  applyDocumentLanguage(matchLanguage(i18next.language) ?? defaultLanguage);
  return i18next;
}

export { i18next as i18n };
