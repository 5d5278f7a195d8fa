/**
 * Every page as a new visitor sees it, in Chromium against the built site on
 * `wrangler pages dev`: nothing scrolls sideways from 320 to 1440 px, tables
 * fit a phone, the top bar marks only the section a page belongs to, model
 * card figures keep their shape and say what their columns are, the centred
 * sliders fill from 0, and with JavaScript off the studios say what it is
 * needed for instead of "Starting…" for ever.
 *
 * The studios start on ?backend=wasm here: the layout does not depend on the
 * backend, and a WebGL start on SwiftShader costs tens of seconds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM_ARGS } from '../../bench/chromium.ts';
import { editSheetColumns } from '../../lib/attributes.ts';
import type { BundleManifest } from '../../lib/bundle.ts';
import { pngSize } from '../../site/build/bundle-files.ts';
import type {} from '../../site/scripts/digits/hook.ts';
import type {} from '../../site/scripts/faces/hook.ts';
import type {} from '../../site/scripts/uses/anomaly/hook.ts';

const baseUrl = inject('baseUrl');
const root = path.resolve(new URL('../..', import.meta.url).pathname);
const WIDTHS = [320, 390, 768, 1280, 1440];
/** Every page of the site, with what to wait for before its layout is final. */
const PAGES: { path: string; status?: number; ready?: string }[] = [
  { path: '/' },
  { path: '/digits?backend=wasm', ready: 'window.__atelier?.ready' },
  { path: '/faces?backend=wasm', ready: 'window.__faces?.ready' },
  { path: '/uses/' },
  { path: '/uses/anomalies?backend=wasm', ready: 'window.__anomaly?.ready' },
  { path: '/uses/clusters' },
  { path: '/uses/reduction' },
  { path: '/models/digits' },
  { path: '/models/faces' },
  { path: '/no-such-page', status: 404 },
];

let browser: Browser;
let context: BrowserContext;
const pageErrors: string[] = [];

async function open(url: string, viewport: { width: number; height: number }, status = 200): Promise<Page> {
  const p = await context.newPage();
  await p.setViewportSize(viewport);
  p.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
  const res = await p.goto(`${baseUrl}${url}`);
  expect(res?.status(), url).toBe(status);
  return p;
}

/** Lets layout settle after a resize: two animation frames. */
function frames(p: Page): Promise<unknown> {
  return p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** The elements reaching past the right edge whose overflow no ancestor clips: what makes the page scroll sideways. */
function overflowing(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const found: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5) continue;
      let clipped = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= vw + 0.5) {
          clipped = true;
          break;
        }
      }
      if (!clipped) found.push(`<${el.tagName.toLowerCase()}${el.id ? ` id=${el.id}` : ''} class="${el.className}"> to ${Math.round(r.right)} px`);
    }
    return found.slice(0, 5);
  });
}

beforeAll(async () => {
  // A plain browser, not a persistent context: the no-JavaScript check opens a second context in it.
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

describe('no page scrolls sideways', () => {
  for (const { path: url, status, ready } of PAGES) {
    it(`${url} fits ${WIDTHS.join(', ')} px`, async () => {
      const p = await open(url, { width: WIDTHS[0]!, height: 844 }, status);
      if (ready) await p.evaluate(`${ready}`);
      const problems: string[] = [];
      for (const width of WIDTHS) {
        await p.setViewportSize({ width, height: width < 700 ? 844 : 900 });
        await frames(p);
        const { scrollWidth, innerWidth } = await p.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
        if (scrollWidth > innerWidth) problems.push(`${width} px: the page is ${scrollWidth} px wide; ${(await overflowing(p)).join('; ')}`);
      }
      expect(problems).toEqual([]);
      await p.close();
    });
  }
});

describe('the top bar', () => {
  it('marks Uses on the uses pages, and nothing on a model card', async () => {
    const current = (p: Page) => p.locator('.site-header [aria-current="page"]').allTextContents();
    const uses = await open('/uses/clusters', { width: 1280, height: 900 });
    expect((await current(uses)).map((t) => t.trim())).toEqual(['Uses']);
    await uses.close();
    for (const id of ['digits', 'faces']) {
      const card = await open(`/models/${id}`, { width: 1280, height: 900 });
      expect(await current(card)).toEqual([]);
      // The card's own row of links still says where the visitor is.
      expect((await card.locator('.u-nav [aria-current="page"]').textContent())?.trim()).toBe(`Model card: ${id}`);
      await card.close();
    }
  });
});

describe('/uses/clusters on a phone', () => {
  for (const width of [320, 390]) {
    it(`shows each table whole at ${width} px: caption and every column`, async () => {
      const p = await open('/uses/clusters', { width, height: 844 });
      const tables = await p.locator('.u-table').evaluateAll((list) =>
        list.map((t) => {
          const wrap = t.closest('.u-table-wrap')!.getBoundingClientRect();
          const inside = (r: DOMRect) => r.left >= wrap.left - 0.5 && r.right <= wrap.right + 0.5;
          const caption = t.querySelector('caption')!;
          const heads = [...t.querySelectorAll('thead th')];
          return {
            id: t.id,
            captionInside: inside(caption.getBoundingClientRect()),
            headsInside: heads.filter((h) => !inside(h.getBoundingClientRect())).map((h) => h.textContent),
            // A heading cut off by its cell would be wider than the cell shows.
            headsCut: heads.filter((h) => h.scrollWidth > h.clientWidth).map((h) => h.textContent),
          };
        }),
      );
      expect(tables.length).toBe(2);
      for (const t of tables) expect(t, t.id).toEqual({ id: t.id, captionInside: true, headsInside: [], headsCut: [] });
      await p.close();
    });
  }
});

describe('real pictures from the models, and where the faces come from', () => {
  /** Every <img> in `selector`: in the page with its real size on the tag, loaded, and that size. */
  async function loadedImages(p: Page, selector: string): Promise<{ src: string; natural: [number, number] }[]> {
    const imgs = await p.locator(`${selector} img`).all();
    const out = [];
    for (const img of imgs) {
      await img.scrollIntoViewIfNeeded();
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
      const [w, h, nw, nh, src] = await img.evaluate((i: HTMLImageElement) => [Number(i.getAttribute('width')), Number(i.getAttribute('height')), i.naturalWidth, i.naturalHeight, i.getAttribute('src')] as const);
      expect([nw, nh]).toEqual([w, h]);
      out.push({ src: String(src), natural: [nw, nh] as [number, number] });
    }
    return out;
  }

  const synthetic = /synthetic[\s\S]*cartoon avatars[\s\S]*DiceBear[\s\S]*avataaars[\s\S]*CelebA's file layout/;
  const howToTrain = /npm run train -- --dataset celeba --data-dir DIR/;
  const sizeOf = (file: string) => {
    const size = pngSize(readFileSync(path.join(root, 'public', file)))!;
    return [size.width, size.height];
  };

  for (const width of [390, 1280]) {
    it(`/ shows decoded digits and faces from the committed models, labelled, at ${width} px`, async () => {
      const p = await open('/', { width, height: width < 700 ? 844 : 900 });
      expect(await p.locator('.hero svg').count()).toBe(0);
      const grid = await loadedImages(p, '#home-digit-grid');
      expect(grid).toEqual([{ src: '/models/digits/latent-grid.png', natural: sizeOf('models/digits/latent-grid.png') }]);
      expect(await p.locator('#home-digit-grid figcaption').textContent()).toMatch(/digits model's map, decoded: each tile is what its decoder draws at one point of a 16 × 16\s+grid/);
      const faces = await loadedImages(p, '#home-face-samples');
      expect(faces).toEqual([{ src: '/models/faces/samples.png', natural: sizeOf('models/faces/samples.png') }]);
      expect(await p.locator('#home-face-samples figcaption').textContent()).toContain('Random faces from the faces model');
      const note = (await p.locator('#home-faces-data').textContent())!.replace(/\s+/g, ' ');
      expect(note).toMatch(synthetic);
      expect(note).toContain('may not be passed on');
      expect(note).toContain('could not download them');
      for (const file of ['img_align_celeba/', 'list_attr_celeba.txt', 'list_eval_partition.txt']) expect(note).toContain(file);
      expect(note).toMatch(howToTrain);
      await p.close();
    });
  }

  it('/faces says plainly that its faces are synthetic, and how to train on CelebA', async () => {
    const p = await open('/faces?backend=wasm', { width: 1280, height: 900 });
    const brief = p.locator('.faces-head__lede [data-faces-data-brief]');
    expect((await brief.textContent())!.replace(/\s+/g, ' ')).toContain('The faces are synthetic cartoon avatars, not photographs');
    expect(await brief.locator('a').getAttribute('href')).toBe('#faces-data');
    const note = (await p.locator('.faces-model #faces-data').textContent())!.replace(/\s+/g, ' ');
    expect(note).toMatch(synthetic);
    expect(note).toMatch(howToTrain);
    await p.close();
  });
});

describe('/models/faces figures', () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'public/models/faces/manifest.json'), 'utf8')) as BundleManifest;
  const attributes = JSON.parse(readFileSync(path.join(root, 'public/models/faces', manifest.attributes ?? 'attributes.json'), 'utf8')) as { attributes: { name: string }[] };

  it('gives every figure its real width and height before it loads', async () => {
    const p = await open('/models/faces', { width: 390, height: 844 });
    const imgs = p.locator('.u-sheets img');
    expect(await imgs.count()).toBe(Object.keys(manifest.figures ?? {}).length);
    for (const img of await imgs.all()) {
      // Not yet scrolled to (lazy): the box already has the image's shape.
      const box = (await img.boundingBox())!;
      const [w, h] = [Number(await img.getAttribute('width')), Number(await img.getAttribute('height'))];
      expect(w).toBeGreaterThan(0);
      expect(h).toBeGreaterThan(0);
      expect(Math.abs(box.height - (box.width * h) / w)).toBeLessThan(1);
      await img.scrollIntoViewIfNeeded();
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
      expect(await img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight])).toEqual([w, h]);
    }
    await p.close();
  });

  it('names the edit sheet columns in the order the attribute step draws them (training/attributes-sheet.ts), one per tile', async () => {
    const p = await open('/models/faces', { width: 1280, height: 900 });
    const expected = editSheetColumns(attributes.attributes.map((a) => a.name)).map((c) => (c.edit ? `+ ${c.name.replace(/_/g, ' ')}` : 'Reconstruction'));
    const legend = (await p.locator('#attribute-edits-columns li').allTextContents()).map((t) => t.trim());
    expect(legend).toEqual(expected);
    expect(await p.locator('#figure-attributeEdits .u-sheet-numbers li').count()).toBe(expected.length);
    const img = p.locator('#figure-attributeEdits img');
    await img.scrollIntoViewIfNeeded();
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
    // The sheet is that many tiles wide (2-pixel gaps around each).
    expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(expected.length * (manifest.image.width + 2) + 2);
    // Each number stands over its own column of tiles.
    const numbers = await p.locator('#figure-attributeEdits .u-sheet-numbers li').evaluateAll((list) => list.map((li) => {
      const r = li.getBoundingClientRect();
      return r.left + r.width / 2;
    }));
    const imgBox = (await img.boundingBox())!;
    numbers.forEach((x, i) => expect(Math.floor(((x - imgBox.x) / imgBox.width) * expected.length)).toBe(i));
    // No share of nothing printed as NaN.
    expect(await p.locator('#attribute-edits').textContent()).not.toContain('NaN');
    await p.close();
  });

  it('says how new faces are settled, with the build\'s own figures', async () => {
    const p = await open('/models/faces', { width: 1280, height: 900 });
    const s = (manifest.metrics.prior as { settle: { trips: number; relax: number; correction: { codes: number; error: { plain: number; corrected: number } } } }).settle;
    const text = (await p.locator('#prior-settle').textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain(`settled by ${s.trips} encode–decode round trips`);
    expect(text).toContain(`fitted on ${s.correction.codes.toLocaleString('en')} training codes`);
    expect(text).toContain(`(${s.correction.error.plain} → ${s.correction.error.corrected} away) instead of drifting the same way every time, and taken ${s.relax} times as far`);
    await p.close();
  });
});

describe('/faces attribute sliders', () => {
  let p: Page;

  beforeAll(async () => {
    p = await open('/faces?backend=wasm', { width: 1280, height: 900 });
    // Once started: the studio sets its sliders from the address as it starts.
    await p.evaluate(() => window.__faces!.ready);
    await p.locator('#sliders input[type="range"]').first().waitFor({ state: 'attached', timeout: 120_000 });
  });

  afterAll(async () => {
    await p?.close();
  });

  /** Whether the track at fraction `f` of the slider's width, on its centre line, shows the accent colour. */
  async function filledAt(name: string, fractions: number[]): Promise<boolean[]> {
    const input = p.locator(`#attr-${name}`);
    await input.scrollIntoViewIfNeeded();
    await frames(p);
    const png = await input.screenshot();
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const y = Math.floor(info.height / 2);
    return fractions.map((f) => {
      const x = Math.round(f * (info.width - 1));
      const [r, g, b] = [data[(y * info.width + x) * 3]!, data[(y * info.width + x) * 3 + 1]!, data[(y * info.width + x) * 3 + 2]!];
      // The accent (#3450c8) is strongly blue; the empty track is a warm grey.
      return b - r > 60 && b - g > 40;
    });
  }

  async function set(name: string, value: number): Promise<void> {
    await p.locator(`#attr-${name}`).fill(String(value));
    await frames(p);
  }

  it('fills from the centre (0) to the value, not from the left end', async () => {
    const name = 'Smiling';
    await set(name, 0);
    expect(await filledAt(name, [0.08, 0.3, 0.7, 0.92])).toEqual([false, false, false, false]);
    await set(name, 2);
    // +2 of ±4: filled from the middle to three quarters.
    expect(await filledAt(name, [0.08, 0.3, 0.6, 0.92])).toEqual([false, false, true, false]);
    await set(name, -3);
    expect(await filledAt(name, [0.08, 0.3, 0.7, 0.92])).toEqual([false, true, false, false]);
    await set(name, 0);
  });

  for (const width of [1280, 1024, 768, 390]) {
    it(`keeps every row of sliders in line at ${width} px, long names included`, async () => {
      await p.setViewportSize({ width, height: 900 });
      await frames(p);
      const rows = await p.locator('#sliders li').evaluateAll((list) =>
        list.map((li) => ({
          name: li.getAttribute('data-name'),
          top: Math.round(li.getBoundingClientRect().top),
          inputTop: Math.round(li.querySelector('input')!.getBoundingClientRect().top),
          labelLines: Math.round(li.querySelector('label')!.getBoundingClientRect().height / parseFloat(getComputedStyle(li.querySelector('label')!).lineHeight)),
        })),
      );
      expect(rows.length).toBeGreaterThan(0);
      const byRow = new Map<number, typeof rows>();
      for (const r of rows) byRow.set(r.top, [...(byRow.get(r.top) ?? []), r]);
      for (const [top, group] of byRow) {
        const tops = new Set(group.map((g) => g.inputTop));
        expect([...tops], `sliders in the row at ${top} px: ${group.map((g) => g.name).join(', ')}`).toHaveLength(1);
      }
      const mouth = rows.find((r) => r.name === 'Mouth_Slightly_Open');
      if (mouth) expect(mouth.labelLines).toBe(1);
    });
  }
});

describe('with JavaScript off', () => {
  let noJs: BrowserContext;

  beforeAll(async () => {
    noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  });

  afterAll(async () => {
    await noJs?.close();
  });

  for (const url of ['/digits', '/faces', '/uses/anomalies']) {
    it(`${url} says it needs JavaScript, and what for, instead of a loader that never ends`, async () => {
      const p = await noJs.newPage();
      await p.goto(`${baseUrl}${url}`);
      const notice = p.locator('#noscript-notice');
      await expect.poll(() => notice.isVisible()).toBe(true);
      const text = ((await notice.textContent()) ?? '').replace(/\s+/g, ' ');
      expect(text).toContain('This page needs JavaScript');
      expect(text).toContain('TensorFlow.js');
      expect(text).toMatch(/Turn JavaScript on/);
      // The notice is near the top, where a visitor looks first.
      expect((await notice.boundingBox())!.y).toBeLessThan(844);
      for (const loader of await p.locator('[data-needs-js]').all()) expect(await loader.isVisible()).toBe(false);
      await p.close();
    });
  }
});

describe('page errors', () => {
  it('none were raised', () => {
    expect(pageErrors).toEqual([]);
  });
});
