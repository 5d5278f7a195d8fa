/**
 * /digits/train in Chromium against the built site on `wrangler pages dev`
 * (the real _headers: the page is cross-origin isolated, so wasm trains with
 * threads). One run of 200+ steps carries the checks a visitor would make:
 * the loss falls, the map's points move, pause stops the steps, tensors stay
 * flat, and "Explore this model" opens the explorer with the trained decoder
 * (not the committed one). Training runs on wasm here: WebGL on SwiftShader
 * trains, but slowly (bench/browser-train.ts measures both).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '../../site/scripts/digits/hook.ts';
import type {} from '../../site/scripts/train/hook.ts';
import { launchBrowser, watchErrors, type TestBrowser } from './browser.ts';

const baseUrl = inject('baseUrl');
const STEPS = 200;

let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

function stepOf(p: Page): Promise<number> {
  return p.evaluate(() => window.__trainer!.step);
}

function digitPixels(p: Page): Promise<number[]> {
  return p.evaluate(() => {
    const c = document.getElementById('digit') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 4 === 0));
  });
}

async function decodedAt(url: string, z: [number, number]): Promise<number[]> {
  const p = watchErrors(await context.newPage(), pageErrors, url);
  await p.goto(`${baseUrl}${url}`);
  await p.waitForFunction(() => window.__atelier !== undefined);
  await p.evaluate(() => window.__atelier!.ready);
  await p.evaluate(([a, b]) => window.__atelier!.decode(a!, b!), z);
  await p.evaluate(() => window.__atelier!.settled());
  const pixels = await digitPixels(p);
  await p.close();
  return pixels;
}

beforeAll(async () => {
  browser = await launchBrowser();
  context = browser.context;
  page = watchErrors(await context.newPage(), pageErrors, '/digits/train');
  await page.goto(`${baseUrl}/digits/train?backend=wasm`);
  await page.waitForFunction(() => window.__trainer?.backendReport != null, undefined, { timeout: 180_000 });
});

afterAll(async () => {
  await browser?.close();
});

describe('/digits/train', () => {
  it('is cross-origin isolated and trains on wasm with a thread per core, and says so', async () => {
    const report = await page.evaluate(() => window.__trainer!.backendReport!);
    expect(report.used).toBe('wasm');
    expect(report.isolated).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(report.threads).toBe(Math.min(cores, 8));
    expect(report.measured[0]!.imagesPerSecond).toBeGreaterThan(0);
    expect(await page.locator('#backend-text').textContent()).toMatch(/WebAssembly.*threads/s);
  });

  it(`trains ${STEPS} steps: the loss falls, the map's points move, tensors stay flat`, async () => {
    await page.evaluate(() => window.__trainer!.start({ batchSize: 32, epochs: 5 }));
    await page.waitForFunction(() => (window.__trainer!.last?.step ?? 0) >= 3 && window.__trainer!.mapPoints > 0, undefined, { timeout: 120_000 });
    const early = await page.evaluate(() => ({ loss: window.__trainer!.last!.loss, map: window.__trainer!.mapChecksum(), points: window.__trainer!.mapPoints, tensors: window.__trainer!.tensors }));
    expect(early.points).toBe(2000);
    await page.waitForFunction((n) => window.__trainer!.step >= n, 60, { timeout: 300_000, polling: 100 });
    const mid = await page.evaluate(() => window.__trainer!.tensors);
    await page.waitForFunction((n) => window.__trainer!.step >= n, STEPS, { timeout: 600_000, polling: 100 });
    const late = await page.evaluate(() => ({ loss: window.__trainer!.last!.loss, map: window.__trainer!.mapChecksum(), tensors: window.__trainer!.tensors, curves: window.__trainer!.reports }));
    // From about 540 nats per digit at the start to well under 250 after 200 steps of 32.
    expect(late.loss).toBeLessThan(0.6 * early.loss);
    expect(late.map).not.toBe(early.map);
    expect(late.tensors).toBe(mid);
    expect(late.curves).toBeGreaterThan(10);
  });

  it('pauses: the step count stops, and resumes from there', async () => {
    await page.evaluate(() => window.__trainer!.pause());
    await page.waitForFunction(() => window.__trainer!.trainer === 'paused', undefined, { timeout: 60_000 });
    const paused = await stepOf(page);
    await page.waitForTimeout(1500);
    expect(await stepOf(page)).toBe(paused);
    expect(await page.locator('#pause').textContent()).toMatch(/Resume/);
    await page.evaluate(() => window.__trainer!.resume());
    await page.waitForFunction((n) => window.__trainer!.step > n, paused, { timeout: 60_000 });
    await page.evaluate(() => window.__trainer!.pause());
    await page.waitForFunction(() => window.__trainer!.trainer === 'paused', undefined, { timeout: 60_000 });
  });

  it('"Explore this model" opens the explorer with the trained decoder, not the committed one', async () => {
    const opened = context.waitForEvent('page');
    await page.locator('#explore').click();
    const tab = watchErrors(await opened, pageErrors, '/digits?bundle=local:trained');
    await tab.waitForLoadState();
    expect(tab.url()).toContain('/digits?bundle=local:trained');
    await tab.close();
    const z: [number, number] = [0.8, -0.6];
    const trained = await decodedAt('/digits?bundle=local:trained&backend=wasm', z);
    const committed = await decodedAt('/digits?backend=wasm', z);
    expect(Math.max(...trained) - Math.min(...trained)).toBeGreaterThan(16);
    const differing = trained.filter((v, i) => Math.abs(v - committed[i]!) > 24).length;
    expect(differing).toBeGreaterThan(20);
  });

  it('downloads the model as a .tar bundle', async () => {
    const download = page.waitForEvent('download');
    await page.locator('#download').click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^latent-atelier-digits-\d+steps\.tar$/);
    const files = await page.evaluate(() => window.__trainer!.exportFiles());
    expect(files.map((f) => f.path).sort()).toEqual(['decoder/group1-shard1of1.bin', 'decoder/model.json', 'latent-map.json', 'manifest.json']);
  });

  it('reported no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
