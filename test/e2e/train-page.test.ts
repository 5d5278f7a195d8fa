/**
 * The controls and the drawing of /digits/train, driven as a visitor would
 * (the form, the buttons, the slider) against the built site on `wrangler
 * pages dev`: which controls each state allows, β passed on mid-run, the
 * grid drawn, nothing drawn while the tab is hidden and a true word about it
 * on return, and a reset that leaves no tensor behind. train.test.ts covers
 * the training itself, the explorer hand-off and the download. Trains on
 * wasm, one epoch at most; no check is of timing.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '../../site/scripts/train/hook.ts';
import { launchBrowser, watchErrors, type TestBrowser } from './browser.ts';

const baseUrl = inject('baseUrl');

let browser: TestBrowser;
let page: Page;
const pageErrors: string[] = [];
let tensorsAtReady = 0;

interface View {
  trainer: string;
  resetting: boolean;
  step: number;
  mapCount: number;
  gridCount: number;
  mapPoints: number;
  framesPainted: number;
  test: number | null;
  last: { beta: number } | null;
}

/** The hook's figures now (the page's CSP allows no string evaluation, so no waitForFunction with a string). */
function view(): Promise<View> {
  return page.evaluate(() => {
    const t = window.__trainer!;
    const { trainer, resetting, step, mapCount, gridCount, mapPoints, framesPainted, last } = t;
    return { trainer, resetting, step, mapCount, gridCount, mapPoints, framesPainted, last, test: t.data?.test ?? null };
  });
}

/** Polls the hook until `check` holds. */
async function waitUntil(check: (v: View) => boolean, timeoutMs = 150_000): Promise<View> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting on the trainer; it shows ${JSON.stringify(v)}`);
    await page.waitForTimeout(250);
  }
}

/** Pretends the tab is hidden or shown (headless Chromium keeps every tab visible). */
async function fakeHidden(hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

async function disabled(ids: string[]): Promise<Record<string, boolean>> {
  return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await page.locator(`#${id}`).isDisabled()] as const)));
}

beforeAll(async () => {
  browser = await launchBrowser({ viewport: { width: 390, height: 844 } });
  page = watchErrors(await browser.context.newPage(), pageErrors);
  await page.goto(`${baseUrl}/digits/train?backend=wasm`);
  await page.waitForFunction(() => window.__trainer !== undefined);
  await page.evaluate(() => window.__trainer!.ready);
  tensorsAtReady = (await page.evaluate(() => window.__trainer!.memory())).tensors;
});

afterAll(async () => {
  await browser?.close();
});

describe('/digits/train, as a visitor drives it', () => {
  it('says where it will train, and offers only Start and the settings', async () => {
    expect(await page.locator('#backend-text').textContent()).toMatch(/^Training on WebAssembly \(CPU\), \d+ threads?, as asked in the address/);
    expect(await page.locator('#status-text').textContent()).toMatch(/^Ready to train on WebAssembly .* press Start\.$/);
    expect(await page.locator('#loader').isHidden()).toBe(true);
    expect(await page.locator('#legend button').count()).toBe(10);
    expect(await disabled(['start', 'pause', 'reset', 'explore', 'download', 'lr', 'epochs', 'beta'])).toEqual({
      start: false,
      pause: true,
      reset: true,
      explore: true,
      download: true,
      lr: false,
      epochs: false,
      beta: false,
    });
  });

  it('trains from the form and draws the grid; the settings that cannot change are locked', async () => {
    await page.selectOption('#epochs', '1');
    await page.click('#start');
    const v = await waitUntil((x) => x.trainer === 'training' && x.step >= 10 && x.gridCount >= 1 && x.mapCount >= 1);
    expect(v.mapPoints).toBe(v.test);
    const grid = await page.evaluate(() => {
      const c = document.getElementById('grid-canvas') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let max = 0;
      for (let i = 0; i < px.length; i += 4) max = Math.max(max, px[i]!);
      return { width: c.width, max };
    });
    expect(grid.width).toBe(11 * 28);
    expect(grid.max).toBeGreaterThan(30);
    expect(await disabled(['start', 'pause', 'reset', 'explore', 'lr', 'epochs', 'beta'])).toEqual({
      start: true,
      pause: false,
      reset: false,
      explore: false,
      lr: true,
      epochs: true,
      beta: false,
    });
    expect(await page.locator('#stat-epoch').textContent()).toMatch(/^0\.\d\d of 1$/);
  });

  it('passes a new β from the slider to the run in progress', async () => {
    await page.locator('#beta').fill('2.5');
    expect(await page.locator('#beta-out').textContent()).toBe('2.5');
    await waitUntil((v) => v.last?.beta === 2.5);
    // During the first epoch's warm-up the readout shows the weight in use rising to the new β.
    expect(await page.locator('#value-beta').textContent()).toMatch(/^(\d\.\d\d → )?2\.5$/);
  });

  it('pauses and resumes with the one button', async () => {
    await page.click('#pause');
    const { step } = await waitUntil((v) => v.trainer === 'paused');
    expect(await page.locator('#pause').textContent()).toBe('Resume');
    expect(await page.locator('#status-text').textContent()).toBe(`Paused after ${step} steps.`);
    await page.waitForTimeout(1500);
    expect((await view()).step).toBe(step);
    await page.click('#pause');
    await waitUntil((v) => v.trainer === 'training' && v.step > step);
  });

  it('draws nothing while hidden, and says on return that training went on', async () => {
    const before = await view();
    await fakeHidden(true);
    await waitUntil((v) => v.step >= before.step + 3);
    await page.waitForTimeout(1600);
    expect((await view()).framesPainted).toBe(before.framesPainted);
    await fakeHidden(false);
    await waitUntil((v) => v.framesPainted > before.framesPainted);
    expect(await page.locator('#away').textContent()).toMatch(/^Training went on while this tab was hidden: \d+ steps in \d+ s, /);
  });

  it('resets: the map goes, the tensors go back to what they were before training, and Start works again', async () => {
    await page.click('#reset');
    const v = await waitUntil((x) => x.trainer === 'idle' && !x.resetting);
    expect(v.step).toBe(0);
    expect(v.mapPoints).toBe(0);
    expect((await page.evaluate(() => window.__trainer!.memory())).tensors).toBe(tensorsAtReady);
    expect(await disabled(['start', 'explore', 'lr'])).toEqual({ start: false, explore: true, lr: false });
    await page.evaluate(() => window.__trainer!.start({ epochs: 1, beta: 1 }));
    await waitUntil((x) => x.trainer === 'training' && x.step >= 3);
    expect(await page.locator('#beta-out').textContent()).toBe('1.0');
    await page.evaluate(() => window.__trainer!.reset());
    await waitUntil((x) => x.trainer === 'idle' && !x.resetting);
  });

  it('raised no errors on the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
