// Translation keys are checked at compile time against the English file: a
// t('key') that English lacks does not type-check.
import 'i18next';
import type en from './locales/en/translation.json';
import type enMod from './locales/en/mod.json';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en; mod: typeof enMod };
    returnNull: false;
  }
}
