/**
 * The digits studio in Chromium with WebGL (SwiftShader), against the built
 * site on `wrangler pages dev` (so the real _headers and CSP apply).
 *
 * SwiftShader renders WebGL on the CPU, where one decode costs tens of
 * milliseconds or more; the leak check therefore runs its 1,000 decodes on
 * the wasm backend (same tfjs engine, same tensor bookkeeping) and a shorter
 * run on WebGL. E2E_WEBGL_DECODES raises the WebGL count on a real GPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeShareQuery } from '../../lib/latent-url.ts';
import type {} from '../../site/scripts/digits-app.ts';

const baseUrl = inject('baseUrl');
const WEBGL_DECODES = Number(process.env.E2E_WEBGL_DECODES ?? 50);
const LEAK_DECODES = 1000;

let context: BrowserContext;
let profile: string;
let page: Page;
const pageErrors: string[] = [];

interface HookView {
  backend: string | null;
  decodeCount: number;
  gridCount: number;
  pinned: [number, number];
  shown: [number, number];
  numTensors: number;
}

async function open(url: string): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`${url}: console: ${m.text()}`);
  });
  await p.goto(`${baseUrl}${url}`);
  await p.waitForFunction(() => window.__atelier !== undefined);
  return p;
}

async function ready(p: Page): Promise<void> {
  await p.evaluate(() => window.__atelier!.ready);
  await p.evaluate(() => window.__atelier!.settled());
}

function state(p: Page): Promise<HookView> {
  return p.evaluate(() => {
    const a = window.__atelier!;
    return a.numTensors().then((numTensors) => ({ backend: a.backend, decodeCount: a.decodeCount, gridCount: a.gridCount, pinned: a.pinned, shown: a.shown, numTensors }));
  });
}

function digitPixels(p: Page): Promise<number[]> {
  return p.evaluate(() => {
    const c = document.getElementById('digit') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });
}

function notBlank(pixels: number[]): boolean {
  const grey = pixels.filter((_, i) => i % 4 === 0);
  return Math.max(...grey) - Math.min(...grey) > 16;
}

async function clientAt(p: Page, z1: number, z2: number): Promise<[number, number]> {
  return p.evaluate(([a, b]) => window.__atelier!.clientAt(a!, b!), [z1, z2]);
}

beforeAll(async () => {
  profile = mkdtempSync(path.join(tmpdir(), 'latent-atelier-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  page = await open('/digits?backend=webgl');
  await ready(page);
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('/digits on WebGL', () => {
  it('decodes on the WebGL backend and draws a digit', async () => {
    const s = await state(page);
    expect(s.backend).toBe('webgl');
    expect(s.decodeCount).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#status-text').textContent()).toContain('WebGL');
    expect(notBlank(await digitPixels(page))).toBe(true);
    expect(await page.locator('#loader').isHidden()).toBe(true);
    expect(await page.locator('#legend button').count()).toBe(10);
  });

  it('follows the pointer over the map, one decode per frame at most', async () => {
    await page.locator('#map').scrollIntoViewIfNeeded();
    const [x1, y1] = await clientAt(page, -2.5, 2.5);
    const [x2, y2] = await clientAt(page, 2.5, -2.5);
    await page.mouse.move(x1, y1);
    await page.evaluate(() => window.__atelier!.settled());
    const first = await state(page);
    expect(first.shown[0]).toBeCloseTo(-2.5, 1);
    expect(first.shown[1]).toBeCloseTo(2.5, 1);
    const a = await digitPixels(page);

    await page.mouse.move(x2, y2, { steps: 40 });
    await page.evaluate(() => window.__atelier!.settled());
    const second = await state(page);
    expect(second.shown[0]).toBeCloseTo(2.5, 1);
    expect(second.shown[1]).toBeCloseTo(-2.5, 1);
    expect(second.decodeCount - first.decodeCount).toBeGreaterThanOrEqual(1);
    expect(second.decodeCount - first.decodeCount).toBeLessThanOrEqual(40);
    const b = await digitPixels(page);
    expect(notBlank(b)).toBe(true);
    expect(b).not.toEqual(a);
    expect(await page.locator('#digit-mode').textContent()).toBe('exploring');
  });

  it('pins on click and the link restores the same point and pixels', async () => {
    const [x, y] = await clientAt(page, 1.3, 0.7);
    await page.mouse.click(x, y);
    await page.waitForFunction(() => new URL(location.href).searchParams.has('z'));
    await page.evaluate(() => window.__atelier!.settled());
    const pinned = await state(page);
    expect(pinned.shown).toEqual(pinned.pinned);
    const pixels = await digitPixels(page);
    const link = page.url();
    expect(link).toMatch(/\/digits\?z=1\.[0-9a-f]+\.[A-Za-z0-9_-]+&backend=webgl$/);

    const again = await open(link.slice(baseUrl.length));
    await ready(again);
    const restored = await state(again);
    expect(restored.pinned).toEqual(pinned.pinned);
    expect(restored.shown).toEqual(pinned.pinned);
    expect(await digitPixels(again)).toEqual(pixels);
    expect(await again.locator('#notice').isHidden()).toBe(true);
    await again.close();
  });

  it(`keeps numTensors flat over ${WEBGL_DECODES} decodes and a burst of pointer moves`, async () => {
    await page.evaluate(() => window.__atelier!.settled());
    const before = (await state(page)).numTensors;
    await page.evaluate(async (n) => {
      const a = window.__atelier!;
      for (let i = 0; i < n; i++) await a.decode(3 * Math.sin(i * 0.37), 3 * Math.cos(i * 0.23));
    }, WEBGL_DECODES);
    const [x1, y1] = await clientAt(page, -3, -3);
    const [x2, y2] = await clientAt(page, 3, 3);
    await page.mouse.move(x1, y1);
    await page.mouse.move(x2, y2, { steps: 50 });
    await page.evaluate(() => window.__atelier!.settled());
    expect((await state(page)).numTensors).toBe(before);
  });
});

describe('choosing the backend', () => {
  it('times WebGL and WebAssembly in the decode worker and keeps the faster', async () => {
    const p = await open('/digits');
    await ready(p);
    const r = await p.evaluate(() => ({ backend: window.__atelier!.backend, where: window.__atelier!.where, measured: window.__atelier!.measured }));
    expect(r.where).toBe('worker');
    expect(r.measured.map((m) => m.name).sort()).toEqual(['wasm', 'webgl']);
    for (const m of r.measured) expect(m.ms).toBeGreaterThan(0);
    const fastest = r.measured.reduce((a, b) => (b.ms < a.ms ? b : a));
    expect(r.backend).toBe(fastest.name);
    const status = await p.locator('#status-text').textContent();
    expect(status).toContain('the fastest measured here');
    expect(status).toMatch(/WebGL \(GPU\) [\d.]+ ms/);
    expect(notBlank(await digitPixels(p))).toBe(true);
    console.log(`[digits] auto choice: ${r.backend} (${r.measured.map((m) => `${m.name} ${m.ms.toFixed(1)} ms`).join(', ')})`);
    await p.close();

    // The next visit (same browser profile, same model version) uses the remembered choice without timing again.
    const again = await open('/digits');
    await ready(again);
    expect(await again.evaluate(() => window.__atelier!.backend)).toBe(r.backend);
    expect(await again.locator('#status-text').textContent()).toContain('on an earlier visit');
    expect(notBlank(await digitPixels(again))).toBe(true);
    await again.close();
  });

  it('runs on the page thread with ?worker=off, and says so', async () => {
    const p = await open('/digits?backend=wasm&worker=off');
    await ready(p);
    expect(await p.evaluate(() => window.__atelier!.where)).toBe('page');
    expect(await p.locator('#status-text').textContent()).toContain("share the page's thread");
    expect(notBlank(await digitPixels(p))).toBe(true);
    expect((await state(p)).numTensors).toBeGreaterThan(0);
    await p.close();
  });
});

describe('share links that cannot be honoured exactly', () => {
  it('says when a link comes from another model version', async () => {
    const manifest = (await (await fetch(`${baseUrl}/models/digits/manifest.json`)).json()) as { version: string };
    const other = manifest.version === 'deadbeef' ? 'feedface' : 'deadbeef';
    const p = await open(`/digits?${encodeShareQuery({ z: new Float32Array([0.5, -1]), sliders: [] }, other)}`);
    const alert = p.locator('#notice[role="alert"]');
    await alert.waitFor({ state: 'visible' });
    const text = await alert.textContent();
    expect(text).toContain('another version');
    expect(text).toContain(other);
    // The point is taken from the link as soon as the manifest is in; no need to wait for the decoder.
    expect((await state(p)).pinned).toEqual([0.5, -1]);
    await p.close();
  });
});

describe('/digits on the wasm fallback', () => {
  let wasmPage: Page;

  it('explains a malformed link, then starts anyway (here on ?backend=wasm)', async () => {
    // One page serves both checks: a second WebGL start costs tens of seconds on SwiftShader.
    wasmPage = await open('/digits?backend=wasm&z=1.5b2a642e.@@not-base64@@');
    const alert = wasmPage.locator('#notice[role="alert"]');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toContain('could not be opened');
    await ready(wasmPage);
    const s = await state(wasmPage);
    expect(s.backend).toBe('wasm');
    expect(s.pinned).toEqual([0, 0]);
    expect(await wasmPage.locator('#status-text').textContent()).toContain('WebAssembly');
    expect(notBlank(await digitPixels(wasmPage))).toBe(true);
  });

  it(`keeps numTensors flat over ${LEAK_DECODES} decodes, and draws the quantile grid`, async () => {
    const p = wasmPage;
    const start = await state(p);
    const before = start.numTensors;
    await p.evaluate(async (n) => {
      const a = window.__atelier!;
      for (let i = 0; i < n; i++) await a.decode(3 * Math.sin(i * 0.37), 3 * Math.cos(i * 0.23));
    }, LEAK_DECODES);
    const after = await state(p);
    expect(after.decodeCount - start.decodeCount).toBe(LEAK_DECODES);
    expect(after.numTensors).toBe(before);

    await p.locator('#grid').scrollIntoViewIfNeeded();
    await p.waitForFunction(() => window.__atelier!.gridCount >= 1, null, { timeout: 60_000 });
    await p.evaluate(() => window.__atelier!.settled());
    const grid = await p.evaluate(() => {
      const c = document.getElementById('grid') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < d.length; i += 4) {
        lo = Math.min(lo, d[i]!);
        hi = Math.max(hi, d[i]!);
      }
      return { width: c.width, lo, hi };
    });
    expect(grid.width).toBe(15 * 28);
    expect(grid.hi - grid.lo).toBeGreaterThan(16);
    expect((await state(p)).numTensors).toBe(before);
    await p.close();
  });

  it('reported no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
