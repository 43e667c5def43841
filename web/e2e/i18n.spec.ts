// The page in the browser's language: Arabic, right to left, and the switcher
// remembered across a reload.
import { LANGUAGE_STORAGE_KEY } from '../src/languages';
import { expect, expectAccessible, expectMediaFlowing, openSettings, screenshot, sentEvents, test } from './fixtures';

test('a browser in Arabic gets Arabic, right to left; the switcher changes the language and it is remembered', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url, { locale: 'ar' });
  const page = a.page;

  await expect(page.locator('html')).toHaveAttribute('lang', 'ar');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('تحدّث مع الغرباء');
  await expect(page.getByRole('button', { name: 'ابدأ' })).toBeVisible();
  await expect(page).toHaveTitle('Go-Megle: تحدّث مع الغرباء');
  // Mirrored: the brand is at the right edge of the top bar, the settings (their menu's button) at the left.
  const brand = (await page.locator('.brand').boundingBox())!;
  const settings = (await page.getByRole('button', { name: 'الإعدادات' }).boundingBox())!;
  expect(brand.x).toBeGreaterThan(settings.x);
  await expectAccessible(page, 'landing (Arabic)');
  await screenshot(page, '6-landing-arabic');
  await page.getByRole('button', { name: 'الإعدادات' }).click();
  await expect(page.getByRole('combobox', { name: 'اللغة' })).toBeInViewport(); // the menu opens inside the window, on the left
  await expectAccessible(page, 'settings (Arabic)');

  // The switcher: English, then a reload keeps it.
  await page.getByRole('combobox', { name: 'اللغة' }).selectOption('en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Talk to strangers');
  await expect(page.locator('html')).toHaveAttribute('dir', 'ltr');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  expect(await page.evaluate((key) => localStorage.getItem(key), LANGUAGE_STORAGE_KEY)).toBe('en');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Talk to strangers');
  await expect(page.locator('html')).toHaveAttribute('dir', 'ltr');

  // Another language, loaded as its own chunk from this server, also remembered.
  await openSettings(page);
  await page.getByRole('combobox', { name: 'Language', exact: true }).selectOption('fr');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Parlez à des inconnus');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Parlez à des inconnus');
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
});

test('two strangers in Arabic: the connected view right to left (screenshot)', async ({ goServer, stranger }) => {
  const server = await goServer();
  const a = await stranger(server.url, { locale: 'ar' });
  const b = await stranger(server.url, { locale: 'ar-EG' });
  for (const page of [a.page, b.page]) await page.getByRole('button', { name: 'ابدأ' }).click();
  for (const page of [a.page, b.page]) await expect(page.getByRole('status')).toHaveText(/^أنت متصل بغريب/);
  await expectMediaFlowing(a.page, b.page);
  await b.page.getByRole('textbox', { name: 'الرسالة' }).fill('مرحبًا! كيف حالك؟');
  await b.page.getByRole('textbox', { name: 'الرسالة' }).press('Enter');
  await expect(a.page.getByTestId('chat-log')).toContainText('مرحبًا! كيف حالك؟');
  // Mirrored: the videos are on the right, the chat on the left.
  const videos = (await a.page.locator('.videos').boundingBox())!;
  const chat = (await a.page.locator('.chat').boundingBox())!;
  expect(videos.x).toBeGreaterThan(chat.x);
  await expectAccessible(a.page, 'connected (Arabic)');
  await screenshot(a.page, '7-connected-arabic');
});

test('strangers who speak your language: the page’s language by default, changed on the landing page, remembered, and said on match', async ({
  goServer,
  stranger,
}) => {
  const server = await goServer();
  // an English speaker who wants English only: never offered to the others below
  const en = await stranger(server.url);
  await en.page.getByRole('checkbox', { name: 'Only people who speak my language' }).check();
  await en.page.getByRole('button', { name: 'Start' }).click();
  await expect(en.page.getByRole('status')).toHaveText('Looking for someone…');
  await expect.poll(() => sentEvents(en, 'find_match').at(-1)?.data).toMatchObject({ languages: ['en'], only_language: true });

  const pt = await stranger(server.url, { locale: 'pt-BR' });
  await pt.page.getByRole('button', { name: 'Começar' }).click();
  await expect.poll(() => sentEvents(pt, 'find_match').at(-1)?.data).toMatchObject({ languages: ['pt'] });

  // an English page whose user speaks Portuguese instead: remembered across a reload
  const b = await stranger(server.url);
  await b.page.getByRole('button', { name: 'Remove English' }).click();
  await b.page.getByRole('combobox', { name: 'Add a language' }).selectOption('pt');
  await b.page.reload();
  await expect(b.page.getByRole('list', { name: 'Your languages' })).toHaveText('Portuguese×');
  await expectAccessible(b.page, 'landing with a language chosen');
  await b.page.getByRole('button', { name: 'Start' }).click();
  await expect(b.page.getByTestId('shared-language')).toHaveText('You both speak Portuguese');
  await expect(pt.page.getByTestId('shared-language')).toHaveText('Vocês dois falam português');
  await expect(en.page.getByRole('status')).toHaveText('Looking for someone…');
});
