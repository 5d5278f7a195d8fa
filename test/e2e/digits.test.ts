/**
 * The digits studio in Chromium with WebGL (SwiftShader), against the built
 * site on `wrangler pages dev` (so the real _headers and CSP apply).
 *
 * SwiftShader renders WebGL on the CPU, where one decode costs tens of
 * milliseconds or more; the leak check therefore runs its 1,000 decodes on
 * the wasm backend (same tfjs engine, same tensor bookkeeping) and a shorter
 * run on WebGL. E2E_WEBGL_DECODES raises the WebGL count on a real GPU.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeShareQuery } from '../../lib/latent-url.ts';
import { packTar } from '../../lib/tar.ts';
import type {} from '../../site/scripts/digits/hook.ts';
import { launchBrowser, watchErrors, type TestBrowser } from './browser.ts';

const baseUrl = inject('baseUrl');
const WEBGL_DECODES = Number(process.env.E2E_WEBGL_DECODES ?? 50);
const LEAK_DECODES = 1000;

let browser: TestBrowser;
let context: BrowserContext;
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
  const p = watchErrors(await context.newPage(), pageErrors, url);
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
  browser = await launchBrowser();
  context = browser.context;
  page = await open('/digits?backend=webgl');
  await ready(page);
});

afterAll(async () => {
  await browser?.close();
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

describe('the map goes first, the sheet fills in behind', () => {
  it('decodes the point under the pointer before the rest of a sheet that is still filling', async () => {
    await page.locator('#map').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.__atelier!.settled());
    const seq = () => page.evaluate(() => window.__atelier!.events.at(-1)?.seq ?? 0);
    const start = await seq();
    // A new sheet size starts a fresh 30 x 30 sheet while the map stays on screen.
    await page.locator('#grid-n').evaluate((input: HTMLInputElement) => {
      input.value = '30';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction((s) => window.__atelier!.events.some((e) => e.seq > s && e.what === 'sheet-row' && e.n === 30), start);
    const moved = await seq();
    const [x, y] = await clientAt(page, -1.75, 1.25);
    await page.mouse.move(x, y);
    await page.waitForFunction((s) => window.__atelier!.events.some((e) => e.seq > s && e.what === 'sheet-done' && e.n === 30), start, { timeout: 120_000 });
    // The map's requests and points, and this sheet's rows (the page may have started a sheet of another size on its own).
    const events = (await page.evaluate(() => window.__atelier!.events)).filter((e) => e.seq > start && (e.what === 'request' || e.what === 'point' || e.n === 30));
    const asked = events.findIndex((e) => e.seq > moved && e.what === 'request');
    const point = events.findIndex((e, i) => i > asked && e.what === 'point');
    const done = events.findIndex((e) => e.what === 'sheet-done');
    expect(asked, 'the pointer asked for a point').toBeGreaterThanOrEqual(0);
    expect(point, 'the point was decoded').toBeGreaterThan(asked);
    expect(point, 'before the sheet was complete').toBeLessThan(done);
    // It waited for the batch of rows already in flight, at most: no other batch went ahead of it.
    const batchesBetween = new Set(events.slice(asked, point).filter((e) => e.what === 'sheet-row').map((e) => e.batch));
    expect(batchesBetween.size).toBeLessThanOrEqual(1);
    expect(events.filter((e) => e.what === 'sheet-row')).toHaveLength(30);
    const shown = (await state(page)).shown;
    expect(shown[0]).toBeCloseTo(-1.75, 1);
    expect(shown[1]).toBeCloseTo(1.25, 1);
  });

  it('draws the rows on screen first', async () => {
    const start = await page.evaluate(() => window.__atelier!.events.at(-1)?.seq ?? 0);
    // Only the lower part of the sheet on screen: its top 45% scrolled past.
    await page.locator('#grid').evaluate((c) => {
      const r = c.getBoundingClientRect();
      window.scrollBy(0, r.top + 0.45 * r.height);
    });
    await page.locator('#grid-n').evaluate((input: HTMLInputElement) => {
      input.value = '10';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction((s) => window.__atelier!.events.some((e) => e.seq > s && e.what === 'sheet-done' && e.n === 10), start, { timeout: 120_000 });
    const rows = (await page.evaluate(() => window.__atelier!.events)).filter((e) => e.seq > start && e.what === 'sheet-row' && e.n === 10).map((e) => e.row);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toBeGreaterThan(0);
    expect(rows.slice(0, rows.indexOf(9) + 1)).toEqual(Array.from({ length: 10 - rows[0]! }, (_, i) => rows[0]! + i));
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('keeps the decoded digit in view over the map on a phone', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    phone.on('pageerror', (e) => pageErrors.push(`phone: ${e.message}`));
    await phone.goto(`${baseUrl}/digits?backend=wasm`);
    await phone.waitForFunction(() => window.__atelier !== undefined);
    await ready(phone);
    const peek = phone.locator('#digit-peek');
    expect(await peek.isVisible()).toBe(false);
    await phone.locator('#map').scrollIntoViewIfNeeded();
    const before = await phone.evaluate(() => window.__atelier!.decodeCount);
    const [x, y] = await clientAt(phone, 1.5, -1.2);
    await phone.mouse.move(x, y);
    await phone.waitForFunction((n) => window.__atelier!.decodeCount > n, before);
    await phone.evaluate(() => window.__atelier!.settled());
    expect(await peek.isVisible()).toBe(true);
    const box = (await peek.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    expect(box.width).toBeGreaterThan(60);
    // It shows the digit just decoded, pixel for pixel.
    const pixels = (id: string) =>
      phone.evaluate((i) => {
        const c = document.getElementById(i) as HTMLCanvasElement;
        return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
      }, id);
    expect(await pixels('digit-peek')).toEqual(await pixels('digit'));
    // The pointer is on the right half: the copy sits on the left, away from it.
    const map = (await phone.locator('#map').boundingBox())!;
    expect(box.x + box.width).toBeLessThan(map.x + map.width / 2);
    // Leaving the map puts it away.
    await phone.mouse.move(5, 5);
    await expect.poll(() => peek.isVisible()).toBe(false);
    await phone.close();
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
    const status = (await p.locator('#status-text').textContent()) ?? '';
    expect(status).toContain('the fastest measured here');
    // One time per image on the line (the live one), not the start-up figures beside it.
    expect(status.match(/[\d.]+ ms\b/g)).toHaveLength(1);
    // WebGL on a software renderer (SwiftShader here) is not called a GPU.
    const software = await p.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '');
    });
    if (software) {
      expect(status).toContain('WebGL (no GPU: emulated on the CPU)');
      expect(status).not.toContain('WebGL (GPU)');
    } else expect(status).toContain('WebGL (GPU)');
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

describe('other bundles: a .tar opened on the page, a model this browser lacks', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const file = (path: string) => readFileSync(`${root}public/models/digits/${path}`);
  /** The committed decoder, manifest and latent map, packed as the training page's Download button packs a model. */
  const digitsTar = () =>
    Buffer.from(packTar(['manifest.json', 'decoder/model.json', 'decoder/group1-shard1of1.bin', 'latent-map.json'].map((path) => ({ path, bytes: new Uint8Array(file(path)) }))));
  let p: Page;
  let published: number[];

  it('refuses a file that is not a bundle, and keeps the model on show', async () => {
    p = await open('/digits?backend=wasm');
    await ready(p);
    await p.evaluate(() => window.__atelier!.decode(0.5, -1));
    published = await digitPixels(p);
    const alert = p.locator('#notice[role="alert"]');
    await p.setInputFiles('#bundle-file', { name: 'samples.png', mimeType: 'image/png', buffer: file('samples.png') });
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toContain('The file samples.png is not a tar file');
    expect(await alert.textContent()).toContain('The model on show stays.');
    const notes = Buffer.from(packTar([{ path: 'notes.txt', bytes: new TextEncoder().encode('hi') }]));
    await p.setInputFiles('#bundle-file', { name: 'notes.tar', mimeType: 'application/x-tar', buffer: notes });
    await expect.poll(() => alert.textContent()).toContain('The file notes.tar holds no manifest.json');
    expect(p.url()).toBe(`${baseUrl}/digits?backend=wasm`);
    expect(await p.locator('#model-source').isHidden()).toBe(true);
    expect(await digitPixels(p)).toEqual(published);
  });

  it('opens a .tar of the committed bundle chosen in the file picker, says so, and decodes the same digit', async () => {
    await p.setInputFiles('#bundle-file', { name: 'model.tar', mimeType: 'application/x-tar', buffer: digitsTar() });
    await p.waitForURL(/\/digits\?bundle=local:opened&backend=wasm$/);
    await p.waitForFunction(() => window.__atelier !== undefined);
    await ready(p);
    expect(await p.locator('#model-source').textContent()).toContain('Model opened from a bundle file: “Handwritten digits (MNIST)”');
    expect(await p.locator('#notice').isHidden()).toBe(true);
    expect(await p.locator('#model-facts').textContent()).toContain('Model opened from a bundle file');
    expect(notBlank(await digitPixels(p))).toBe(true);
    await p.evaluate(() => window.__atelier!.decode(0.5, -1));
    expect(await digitPixels(p)).toEqual(published);
    // A pinned point's link keeps the bundle it was made on.
    const [x, y] = await clientAt(p, 1, 1);
    await p.mouse.click(x, y);
    await p.waitForFunction(() => new URL(location.href).searchParams.has('z'));
    expect(new URL(p.url()).searchParams.get('bundle')).toBe('local:opened');
    await p.close();
  });

  it('says when this browser holds no model by the name in the address, and shows the published one', async () => {
    const q = await open('/digits?backend=wasm&bundle=local:nothing-here');
    const alert = q.locator('#notice[role="alert"]');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toContain('No model is saved in this browser as "nothing-here"');
    expect(await alert.textContent()).toContain('Showing the published digits model instead.');
    await ready(q);
    expect(q.url()).toBe(`${baseUrl}/digits?backend=wasm`);
    expect(await q.locator('#model-source').isHidden()).toBe(true);
    expect(notBlank(await digitPixels(q))).toBe(true);
    await q.close();
  });

  it('opens a bundle folder on this site, and refuses one on another', async () => {
    const here = await open('/digits?backend=wasm&bundle=/models/digits/');
    await ready(here);
    expect(await here.locator('#model-source').textContent()).toContain('Model served from /models/digits/');
    expect(notBlank(await digitPixels(here))).toBe(true);
    await here.close();
    const away = await open('/digits?backend=wasm&bundle=https://example.com/models/mine/');
    const alert = away.locator('#notice[role="alert"]');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toContain('is on another site; this page loads bundles from');
    await ready(away);
    await away.close();
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

  it('draws decoded digits on CPU-backed canvases, so a result from the worker never waits for the GPU', async () => {
    // A GPU-backed 2D canvas makes every task that draws on it wait for the GPU to catch up: with decodes in the worker, each result is such a task.
    const cpuBacked = await wasmPage.evaluate(() =>
      ['digit', 'digit-peek'].map((id) => (document.getElementById(id) as HTMLCanvasElement).getContext('2d')!.getContextAttributes().willReadFrequently),
    );
    expect(cpuBacked).toEqual([true, true]);
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
      return { width: c.width, lo, hi, cpuBacked: c.getContext('2d')!.getContextAttributes().willReadFrequently };
    });
    expect(grid.width).toBe(15 * 28);
    expect(grid.cpuBacked).toBe(true);
    expect(grid.hi - grid.lo).toBeGreaterThan(16);
    expect((await state(p)).numTensors).toBe(before);
    await p.close();
  });

  it('reported no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
