/**
 * The uses pages and the model cards in Chromium, against the built site on
 * `wrangler pages dev`: each page shows the numbers the manifest holds and
 * draws its plots; drawing on the anomaly pad produces a score, and a
 * Fashion-MNIST item is flagged with the score the build computed.
 *
 * E2E_SCREENSHOTS=1 also writes docs/screenshots/{uses-anomalies,uses-clusters,
 * uses-reduction,model-digits}.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BundleManifest } from '../../lib/bundle.ts';
import { usesMetricsOf, type AnomalyExamplesFile, type UsesMetrics } from '../../lib/uses.ts';
import type {} from '../../site/scripts/uses/anomaly/hook.ts';
import { launchBrowser, watchErrors, type TestBrowser } from './browser.ts';

const baseUrl = inject('baseUrl');
const root = path.resolve(new URL('../..', import.meta.url).pathname);
const SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1';

const manifest = JSON.parse(readFileSync(path.join(root, 'public/models/digits/manifest.json'), 'utf8')) as BundleManifest;
const uses = usesMetricsOf(manifest) as UsesMetrics;
const examples = uses ? (JSON.parse(readFileSync(path.join(root, 'public/models/digits', uses.files.anomalyExamples), 'utf8')) as AnomalyExamplesFile) : null;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

let browser: TestBrowser;
let context: BrowserContext;
const pageErrors: string[] = [];

async function open(url: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const p = await context.newPage();
  await p.setViewportSize(viewport);
  watchErrors(p, pageErrors, url);
  const res = await p.goto(`${baseUrl}${url}`);
  expect(res?.status(), url).toBe(200);
  return p;
}

async function screenshot(p: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  const dir = path.join(root, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  // From the top, so the sticky header sits where a visitor sees it.
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.screenshot({ path: path.join(dir, name), fullPage: true });
}

async function text(p: Page, selector: string): Promise<string> {
  return ((await p.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Number of dots an SVG scatter drew (its data-points), and how many coloured paths it has. */
async function scatter(p: Page, id: string): Promise<{ points: number; paths: number }> {
  const svg = p.locator(`#${id}`);
  return { points: Number(await svg.getAttribute('data-points')), paths: await svg.locator('path[data-group]').count() };
}

beforeAll(async () => {
  expect(uses, 'public/models/digits has no metrics.uses: run npx tsx training/uses-cli.ts --bundle public/models/digits').not.toBeNull();
  browser = await launchBrowser();
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
});

describe('/uses/anomalies', () => {
  let page: Page;

  beforeAll(async () => {
    page = await open('/uses/anomalies');
    await page.waitForFunction(() => window.__anomaly !== undefined);
    await page.evaluate(() => window.__anomaly!.ready);
  });

  it('shows the build-time numbers and the score histogram', async () => {
    expect(await text(page, '#stat-auroc')).toBe(uses.anomaly.auroc.toFixed(3));
    expect(await text(page, '#stat-tpr')).toBe(pct(uses.anomaly.truePositiveRate));
    expect(await text(page, '#stat-fpr')).toBe(pct(uses.anomaly.falsePositiveRate));
    expect(await text(page, '#stat-threshold')).toContain(uses.anomaly.threshold.toFixed(1));
    const hist = page.locator('#score-histogram');
    expect(await hist.locator('path[data-set="mnist"]').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+V/);
    expect(await hist.locator('path[data-set="fashion"]').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+V/);
    expect(await page.locator('button[data-example]').count()).toBe(examples!.examples.length);
    expect(await page.locator('#u-loader').isHidden()).toBe(true);
    expect(await text(page, '#u-status')).toMatch(/Running the encoder and decoder on/);
  });

  it('runs on the backend it measured fastest, as the studios do', async () => {
    const r = await page.evaluate(() => ({ backend: window.__anomaly!.backend, measured: window.__anomaly!.measured }));
    expect(r.measured.map((m) => m.name).sort()).toEqual(['wasm', 'webgl']);
    const fastest = r.measured.reduce((a, b) => (b.ms < a.ms ? b : a));
    expect(r.backend).toBe(fastest.name);
    // SwiftShader (software WebGL) is not called a GPU.
    const renderer = await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    });
    const webgl = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer) ? 'WebGL \\(no GPU: emulated on the CPU\\)' : 'WebGL \\(GPU\\)';
    expect(await text(page, '#u-status')).toMatch(new RegExp(`, the fastest measured here \\(${webgl} [\\d.]+ ms, WebAssembly \\(CPU\\) [\\d.]+ ms per image\\)\\.`));
    console.log(`[anomalies] auto choice: ${r.backend} (${r.measured.map((m) => `${m.name} ${m.ms.toFixed(1)} ms`).join(', ')})`);
  });

  it('scores a digit drawn with the pointer', async () => {
    const pad = page.locator('#pad');
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    const before = await page.evaluate(() => window.__anomaly!.runs);
    // A "7": the bar, then the diagonal.
    await page.mouse.move(...at(0.3, 0.25));
    await page.mouse.down();
    await page.mouse.move(...at(0.7, 0.25), { steps: 12 });
    await page.mouse.move(...at(0.45, 0.8), { steps: 16 });
    await page.mouse.up();
    await page.waitForFunction((n) => window.__anomaly!.runs > n && window.__anomaly!.last?.source === 'drawing', before);
    await page.evaluate(() => window.__anomaly!.settled());
    const last = (await page.evaluate(() => window.__anomaly!.last))!;
    expect(last.source).toBe('drawing');
    expect(Number.isFinite(last.score) && last.score > 0).toBe(true);
    expect(last.score).toBeCloseTo(last.reconstruction + last.kl, 6);
    expect(await text(page, '#score')).toBe(last.score.toFixed(1));
    expect(await page.locator('#verdict').getAttribute('data-state')).toBe(last.anomalous ? 'anomalous' : 'normal');
    expect(await page.locator('#score-marker').getAttribute('visibility')).toBe('visible');
    // What the model saw is not blank.
    const ink = await page.evaluate(() => {
      const c = document.getElementById('seen') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, 28, 28).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i]!;
      return sum / 255;
    });
    expect(ink).toBeGreaterThan(20);
    await screenshot(page, 'uses-anomalies.png');
  });

  it('scores a digit drawn with a finger (touch events)', async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
    await page.locator('#pad-clear').click();
    const box = (await page.locator('#pad').boundingBox())!;
    const at = (fx: number, fy: number) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
    const before = await page.evaluate(() => window.__anomaly!.runs);
    // A "1": one stroke down the middle.
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(0.5, 0.2)] });
    for (let i = 1; i <= 15; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(0.5, 0.2 + (0.6 * i) / 15)] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForFunction((n) => window.__anomaly!.runs > n, before);
    await page.evaluate(() => window.__anomaly!.settled());
    const last = (await page.evaluate(() => window.__anomaly!.last))!;
    expect(last.source).toBe('drawing');
    expect(Number.isFinite(last.score) && last.score > 0).toBe(true);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
    await cdp.detach();
  });

  it('says a dot is too small to judge instead of giving a verdict', async () => {
    const pad = page.locator('#pad');
    await pad.scrollIntoViewIfNeeded();
    await page.locator('#pad-clear').click();
    const box = (await pad.boundingBox())!;
    // The issue's 2-pixel dot, in the middle of the pad.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 2, box.y + box.height / 2, { steps: 2 });
    await page.mouse.up();
    const verdict = page.locator('#verdict');
    await expect.poll(() => verdict.getAttribute('data-state')).toBe('unjudged');
    expect(await text(page, '#verdict')).toMatch(/^Too small to judge/);
    expect(await text(page, '#score')).toBe('—');
    expect(await page.locator('#score-marker').getAttribute('visibility')).not.toBe('visible');
    expect(await page.evaluate(() => window.__anomaly!.last)).toBeNull();
    // Drawing on to a full-size stroke gets a verdict again.
    const before = await page.evaluate(() => window.__anomaly!.runs);
    await page.mouse.move(box.x + 0.5 * box.width, box.y + 0.2 * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.5 * box.width, box.y + 0.8 * box.height, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction((n) => window.__anomaly!.runs > n, before);
    await page.evaluate(() => window.__anomaly!.settled());
    expect(['normal', 'anomalous']).toContain(await verdict.getAttribute('data-state'));
    await page.locator('#pad-clear').click();
  });

  it('flags a Fashion-MNIST item, with the score the build computed, and passes a test digit', async () => {
    const fashion = examples!.examples.findIndex((e) => e.source === 'fashion' && e.score > uses.anomaly.threshold * 1.05);
    const digit = examples!.examples.findIndex((e) => e.source === 'mnist' && e.score < uses.anomaly.threshold * 0.95);
    expect(fashion).toBeGreaterThanOrEqual(0);
    expect(digit).toBeGreaterThanOrEqual(0);
    const tensors = await page.evaluate(() => window.__anomaly!.numTensors());
    for (const i of [fashion, digit]) {
      const before = await page.evaluate(() => window.__anomaly!.runs);
      await page.locator(`button[data-example="${i}"]`).click();
      await page.waitForFunction((n) => window.__anomaly!.runs > n, before);
      await page.evaluate(() => window.__anomaly!.settled());
      const last = (await page.evaluate(() => window.__anomaly!.last))!;
      const expected = examples!.examples[i]!;
      expect(last.example).toBe(i);
      expect(last.anomalous).toBe(expected.source === 'fashion');
      // The browser computes the same formula on the same pixels (WebGL float32 vs wasm: small differences).
      expect(Math.abs(last.score - expected.score)).toBeLessThan(Math.max(0.5, 0.005 * expected.score));
      expect(await page.locator('#verdict').getAttribute('data-state')).toBe(expected.source === 'fashion' ? 'anomalous' : 'normal');
    }
    expect(await page.evaluate(() => window.__anomaly!.numTensors())).toBe(tensors);
  });
});

describe('/uses/clusters', () => {
  it('shows both purities, both cluster maps and the per-cluster tables', async () => {
    const page = await open('/uses/clusters');
    expect(await text(page, '#purity-vae')).toBe(pct(uses.clusters.vae.purity));
    expect(await text(page, '#purity-pca')).toBe(pct(uses.clusters.pca.purity));
    for (const space of ['vae', 'pca']) {
      const s = await scatter(page, `cluster-map-${space}`);
      expect(s.points).toBeGreaterThan(1000);
      expect(s.paths).toBeGreaterThanOrEqual(2);
      expect(await page.locator(`#cluster-map-${space} .u-plot__marker`).count()).toBe(uses.clusters.k);
      expect(await page.locator(`#cluster-table-${space} tbody tr`).count()).toBe(uses.clusters.k);
    }
    await screenshot(page, 'uses-clusters.png');
    await page.close();
  });
});

describe('/uses/reduction', () => {
  it('shows both kNN accuracies and the two maps side by side', async () => {
    const page = await open('/uses/reduction');
    expect(await text(page, '#knn-vae')).toBe(pct(uses.reduction.vaeAccuracy));
    expect(await text(page, '#knn-pca')).toBe(pct(uses.reduction.pcaAccuracy));
    const vae = await scatter(page, 'reduction-map-vae');
    const pca = await scatter(page, 'reduction-map-pca');
    expect(vae.points).toBeGreaterThan(1000);
    expect(pca.points).toBeGreaterThan(1000);
    expect(vae.paths).toBe(10);
    expect(pca.paths).toBe(10);
    const [a, b] = [(await page.locator('#map-vae').boundingBox())!, (await page.locator('#map-pca').boundingBox())!];
    expect(Math.abs(a.y - b.y)).toBeLessThan(2);
    expect(b.x).toBeGreaterThan(a.x + a.width - 1);
    await screenshot(page, 'uses-reduction.png');
    await page.close();
  });
});

describe('/models/:id', () => {
  it('renders the digits card: metrics, command, loss curves, sample sheets', async () => {
    const page = await open('/models/digits');
    expect(await text(page, '#metric-negelbo')).toBe(manifest.metrics.test.negElbo.toFixed(2));
    expect(await text(page, '#training-command')).toBe(manifest.training.command.replace(/\s+/g, ' ').trim());
    expect(await text(page, '#training-facts')).toContain(manifest.training.backend);
    for (const id of ['curve-negelbo', 'curve-kl']) {
      const svg = page.locator(`#${id}`);
      expect(Number(await svg.getAttribute('data-epochs'))).toBeGreaterThanOrEqual(1);
      expect(await svg.locator('g[data-series="train"] circle, g[data-series="train"] path').count()).toBeGreaterThanOrEqual(1);
    }
    const images = page.locator('.u-sheets img');
    expect(await images.count()).toBe(Object.keys(manifest.figures ?? {}).length);
    for (const img of await images.all()) {
      await img.scrollIntoViewIfNeeded();
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
    }
    expect(await text(page, '#uses-summary')).toContain(uses.anomaly.auroc.toFixed(3));
    await screenshot(page, 'model-digits.png');
    await page.close();
  });

  it('renders a card for every bundle in models/index.json', async () => {
    const index = (await (await fetch(`${baseUrl}/models/index.json`)).json()) as { models: string[] };
    for (const id of index.models) {
      const page = await open(`/models/${id}`);
      const m = (await (await fetch(`${baseUrl}/models/${id}/manifest.json`)).json()) as BundleManifest;
      expect(await text(page, 'h1')).toBe(m.title);
      expect(await text(page, '#metric-negelbo')).toBe(m.metrics.test.negElbo.toFixed(2));
      const edits = (m.metrics as Record<string, unknown>).attributeEdits as { rows: { name: string; add: number; remove: number; othersUnchanged: number; transport?: { kind?: string; scale: number; pairs?: number } }[]; target?: number } | undefined;
      if (edits) {
        expect(await page.locator('#attribute-edits tbody tr').count()).toBe(edits.rows.length);
        // Rows meeting the manifest's target carry the mark, the others do not.
        const t = edits.target;
        const meeting = t === undefined ? 0 : edits.rows.filter((r) => r.add >= t && r.remove >= t && r.othersUnchanged >= t).length;
        expect(await page.locator('#attribute-edits .edit-works').count()).toBe(meeting);
        // Attributes added by the Gaussian transport, and by a network fitted to counterfactual pairs, are named with their held-out add in the notes under the table.
        const transported = edits.rows.filter((r) => r.transport && r.transport.kind !== 'network');
        if (transported.length) {
          const note = (await text(page, '#edit-transport')).replace(/\s+/g, ' ');
          for (const r of transported) expect(note).toContain(`${r.name.replace(/_/g, ' ')} ${Math.round(100 * r.add)}% by the transport ×${r.transport!.scale}`);
        } else expect(await page.locator('#edit-transport').count()).toBe(0);
        const networked = edits.rows.filter((r) => r.transport?.kind === 'network');
        if (networked.length) {
          const note = (await text(page, '#edit-network')).replace(/\s+/g, ' ');
          for (const r of networked) expect(note).toContain(`${r.name.replace(/_/g, ' ')} ${Math.round(100 * r.add)}% by the network ×${r.transport!.scale}, fitted to ${r.transport!.pairs!.toLocaleString('en')} pairs`);
        } else expect(await page.locator('#edit-network').count()).toBe(0);
      }
      // Every resume is listed after the first command; learning-rate / beta phases when there are several.
      const resumed = (m.training.resumedWith as string[] | undefined) ?? [];
      expect(await page.locator('#training-resumes li').count()).toBe(resumed.length);
      if (resumed.length) expect(await text(page, '#training-resumes li:last-child')).toBe(resumed.at(-1)!.replace(/\s+/g, ' ').trim());
      const phases = (m.training.phases as { beta: number }[] | undefined) ?? [];
      if (phases.length > 1) expect(await text(page, '#training-phases')).toContain(`β = ${phases.at(-1)!.beta}`);
      else expect(await page.locator('#training-phases').count()).toBe(0);
      // A face crop (--crop) is named with the data set.
      if (m.dataset.crop) expect(await text(page, '#dataset-crop')).toContain(`${m.dataset.crop} source pixels wide`);
      else expect(await page.locator('#dataset-crop').count()).toBe(0);
      await page.close();
    }
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
