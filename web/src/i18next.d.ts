// Translation keys are checked at compile time against the English file: a
// t('key') that English lacks does not type-check.
import 'i18next';
import type en from './locales/en/translation.json';

declare module 'i18next' {
  interface CustomTypeOptions {
    resources: { translation: typeof en };
    returnNull: false;
  }
}
