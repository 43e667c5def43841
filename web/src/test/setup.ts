import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, beforeAll } from 'vitest';
import { i18n, initI18n } from '../i18n';

beforeAll(async () => {
  await initI18n({ language: 'en', storage: null });
});

afterEach(async () => {
  cleanup();
  if (i18n.language !== 'en') await i18n.changeLanguage('en');
  window.localStorage.clear();
  window.sessionStorage.clear();
});
