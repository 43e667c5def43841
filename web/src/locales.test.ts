import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { languages } from './languages';

type Tree = { [key: string]: string | Tree };

const localesDir = join(import.meta.dirname, 'locales');
// One file per namespace: translation (the app), mod (the moderator console).
const namespaces = readdirSync(join(localesDir, 'en'))
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.replace(/\.json$/, ''))
  .sort();
const load = (code: string, namespace: string): Tree =>
  JSON.parse(readFileSync(join(localesDir, code, `${namespace}.json`), 'utf8')) as Tree;

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const pluralSuffix = /_(zero|one|two|few|many|other)$/;
const cldrCategories = ['zero', 'one', 'two', 'few', 'many', 'other'];

/** Keys with plural forms folded into their base key (online_one, online_other → online). */
function baseKeys(keys: Iterable<string>): Set<string> {
  return new Set([...keys].map((key) => key.replace(pluralSuffix, '')));
}

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)/g)].map((m) => m[1]).sort();

describe('locales', () => {
  it('has a folder for exactly the languages of the switcher', () => {
    const folders = readdirSync(localesDir).sort();
    expect(folders).toEqual(languages.map((language) => language.code).sort());
    expect(folders).toEqual(expect.arrayContaining(['en', 'es', 'pt', 'fr', 'de', 'ru', 'hi', 'ar']));
  });

  it('has the same namespace files in every language', () => {
    expect(namespaces).toEqual(['mod', 'translation']);
    for (const { code } of languages) expect(readdirSync(join(localesDir, code)).sort(), code).toEqual(namespaces.map((ns) => `${ns}.json`));
  });

  const cases = languages.filter((l) => l.code !== 'en').flatMap((l) => namespaces.map((namespace) => [l.code, namespace]));
  describe.each(cases)('%s/%s', (code, namespace) => {
    const english = flatten(load('en', namespace));
    const englishPlurals = new Set([...english.keys()].filter((key) => pluralSuffix.test(key)).map((key) => key.replace(pluralSuffix, '')));
    const strings = flatten(load(code, namespace));

    it('has exactly the keys of English (plural forms aside)', () => {
      expect([...baseKeys(strings.keys())].sort()).toEqual([...baseKeys(english.keys())].sort());
    });

    it("has every plural form its language needs, and only CLDR's", () => {
      const needed = new Intl.PluralRules(code).resolvedOptions().pluralCategories;
      for (const base of englishPlurals) {
        const forms = [...strings.keys()].filter((key) => key.replace(pluralSuffix, '') === base && pluralSuffix.test(key));
        const categories = forms.map((key) => pluralSuffix.exec(key)![1]);
        expect(categories, base).toEqual(expect.arrayContaining(needed));
        for (const category of categories) expect(cldrCategories, `${base}_${category}`).toContain(category);
      }
      // A key that is plural in another language only is not a key of English.
      for (const key of strings.keys()) if (pluralSuffix.test(key)) expect(englishPlurals).toContain(key.replace(pluralSuffix, ''));
    });

    it('uses the same placeholders as English in every string, and none is empty', () => {
      for (const [key, text] of strings) {
        expect(text.trim(), key).not.toBe('');
        const englishText = english.get(key) ?? english.get(`${key.replace(pluralSuffix, '')}_other`);
        expect(placeholders(text), key).toEqual(placeholders(englishText ?? ''));
      }
    });

    it('is translated, not copied from English', () => {
      // Brand, key names and international words may stay; almost everything else differs.
      const same = [...strings].filter(([key, text]) => english.get(key) === text).map(([key]) => key);
      expect(same.length, `unchanged from English: ${same.join(', ')}`).toBeLessThanOrEqual(6);
    });
  });
});
