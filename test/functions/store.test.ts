/**
 * How the functions read the bundles (functions/_lib/store.ts), in workerd: parsed
 * once per isolate, revalidated with If-None-Match after a few seconds, a new
 * deployment picked up without new code, and a broken deployment reported as
 * a JSON 503 that names the file, never a stack trace. The asset server here is
 * an in-memory site so files can change and break; the other test files use
 * the real one.
 */
import { describe, expect, it } from 'vitest';
import { BundleStore, DataError, REVALIDATE_MS } from '../../functions/_lib/store.ts';
import type { ApiContext, AssetFetcher } from '../../functions/_lib/http.ts';
import * as listRoute from '../../functions/api/models/index.ts';
import * as mixRoute from '../../functions/api/models/[id]/mix.ts';
import * as vectorRoute from '../../functions/api/models/[id]/attributes/[name].ts';

const manifest = (id: string, extra: Record<string, unknown> = {}) => ({
  format: 1,
  id,
  title: `Model ${id}`,
  version: 'v1',
  latentDim: 2,
  image: { height: 4, width: 4, channels: 1 },
  decoder: 'decoder/model.json',
  encoder: null,
  latentMap: null,
  attributes: 'attributes.json',
  history: null,
  dataset: { name: 'test', train: 1, test: 1 },
  training: { command: 'none', epochs: 1, batchSize: 1, beta: 1, backend: 'cpu', seconds: 1 },
  metrics: { test: { negElbo: 1, reconstruction: 1, kl: 0 } },
  ...extra,
});
const attributes = (vector: number[], modelVersion = 'v1') => ({
  latentDim: vector.length,
  modelVersion,
  attributes: [{ name: 'Smiling', vector, positives: 5, negatives: 5, norm: Math.hypot(...vector) }],
  omitted: [],
});

/** A site in memory, answering like the Pages asset server: ETags, 304s, index.html for unknown paths. */
class MemorySite implements AssetFetcher {
  readonly files = new Map<string, string>();
  readonly log: string[] = [];
  /** The next this-many requests lose their connection, as a loaded local asset server sometimes does. */
  failures = 0;
  /** While set, every answer is this HTTP status. */
  outage: number | null = null;
  constructor(files: Record<string, unknown>, private readonly etags = true) {
    for (const [path, value] of Object.entries(files)) this.put(path, value);
  }
  put(path: string, value: unknown): void {
    this.files.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  }
  async fetch(input: Request | string): Promise<Response> {
    const request = typeof input === 'string' ? new Request(input) : input;
    const path = new URL(request.url).pathname;
    const condition = request.headers.get('If-None-Match');
    this.log.push(condition ? `${path} if-none-match` : path);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('Network connection lost.');
    }
    if (this.outage !== null) return new Response('unavailable', { status: this.outage });
    const text = this.files.get(path);
    if (text === undefined) return new Response('<!doctype html><p>home</p>', { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text)));
    const etag = `"${[...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.etags) headers.ETag = etag;
    if (this.etags && condition === etag) return new Response(null, { status: 304, headers });
    return new Response(text, { headers });
  }
}

const ORIGIN = 'https://store.test';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('BundleStore', () => {
  it('parses once, answers from memory, then revalidates with If-None-Match and keeps the parsed data on 304', async () => {
    const site = new MemorySite({ '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2]) });
    const time = clock();
    const store = new BundleStore(REVALIDATE_MS, time.now);
    const first = await store.model(site, ORIGIN, 'faces');
    expect(first?.vectors.get('Smiling')).toEqual([1, 2]);
    expect(site.log).toEqual(['/models/index.json', '/models/faces/manifest.json', '/models/faces/attributes.json']);

    site.log.length = 0;
    time.advance(REVALIDATE_MS - 1);
    expect(await store.model(site, ORIGIN, 'faces')).toBe(first);
    expect(site.log).toEqual([]);

    time.advance(1);
    expect(await store.model(site, ORIGIN, 'faces')).toBe(first);
    expect(site.log).toEqual(['/models/index.json if-none-match', '/models/faces/manifest.json if-none-match', '/models/faces/attributes.json if-none-match']);
  });

  it('picks up recomputed vectors and new models after the next revalidation, without new code', async () => {
    const site = new MemorySite({ '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2]) });
    const time = clock();
    const store = new BundleStore(REVALIDATE_MS, time.now);
    await store.model(site, ORIGIN, 'faces');
    site.put('/models/faces/attributes.json', attributes([3, 4]));
    site.put('/models/index.json', { models: ['faces', 'faces-2'] });
    site.put('/models/faces-2/manifest.json', manifest('faces-2', { attributes: null }));
    expect((await store.model(site, ORIGIN, 'faces'))?.vectors.get('Smiling')).toEqual([1, 2]);
    time.advance(REVALIDATE_MS);
    expect((await store.model(site, ORIGIN, 'faces'))?.vectors.get('Smiling')).toEqual([3, 4]);
    expect(await store.modelIds(site, ORIGIN)).toEqual(['faces', 'faces-2']);
    expect((await store.model(site, ORIGIN, 'faces-2'))?.attributes).toBeNull();
  });

  it('compares the text itself when the asset server sends no ETag', async () => {
    const site = new MemorySite({ '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2]) }, false);
    const time = clock();
    const store = new BundleStore(REVALIDATE_MS, time.now);
    const first = await store.model(site, ORIGIN, 'faces');
    time.advance(REVALIDATE_MS);
    expect(await store.model(site, ORIGIN, 'faces')).toBe(first);
    site.put('/models/faces/attributes.json', attributes([5, 6]));
    time.advance(REVALIDATE_MS);
    expect((await store.model(site, ORIGIN, 'faces'))?.vectors.get('Smiling')).toEqual([5, 6]);
  });

  it('tries a lost connection once more, and keeps serving what it has while the asset server fails', async () => {
    const site = new MemorySite({ '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2]) });
    const time = clock();
    const store = new BundleStore(REVALIDATE_MS, time.now);
    site.failures = 1;
    const first = await store.model(site, ORIGIN, 'faces');
    expect(first?.vectors.get('Smiling')).toEqual([1, 2]);
    expect(site.log.slice(0, 2)).toEqual(['/models/index.json', '/models/index.json']);

    time.advance(REVALIDATE_MS);
    site.failures = 100;
    expect(await store.model(site, ORIGIN, 'faces')).toBe(first);
    site.failures = 0;
    site.outage = 500;
    expect(await store.model(site, ORIGIN, 'faces')).toBe(first);
    site.outage = null;
    site.put('/models/faces/attributes.json', attributes([7, 8]));
    expect((await store.model(site, ORIGIN, 'faces'))?.vectors.get('Smiling')).toEqual([7, 8]);
  });

  it('reports a site it cannot reach at all as a DataError (503)', async () => {
    const site = new MemorySite({ '/models/index.json': { models: ['faces'] } });
    site.failures = 2;
    const error = await new BundleStore().modelIds(site, ORIGIN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe('reading /models/index.json from the site failed: Network connection lost.');
    site.outage = 502;
    await expect(new BundleStore().modelIds(site, ORIGIN)).rejects.toThrow('reading /models/index.json from the site failed with HTTP 502');
  });

  it('knows no models before training has deployed an index', async () => {
    const store = new BundleStore();
    const site = new MemorySite({ '/models/faces/manifest.json': manifest('faces') });
    expect(await store.modelIds(site, ORIGIN)).toEqual([]);
    expect(await store.model(site, ORIGIN, 'faces')).toBeUndefined();
  });

  it.each([
    ['an index that is not JSON', { '/models/index.json': '{"models": [' }, /\/models\/index\.json is not valid JSON/],
    ['an index of the wrong shape', { '/models/index.json': { models: 'faces' } }, /\/models\/index\.json must be \{"models": \[ids\]\}/],
    ['an index with an impossible id', { '/models/index.json': { models: ['../x'] } }, /must be \{"models": \[ids\]\}/],
    ['a listed model without a manifest', { '/models/index.json': { models: ['faces'] } }, /\/models\/faces\/manifest\.json is named by the deployed bundle but the site does not serve it/],
    ['a manifest that breaks the contract', { '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces', { latentDim: 0 }) }, /the deployed bundle is invalid: \/models\/faces\/manifest\.json: "latentDim" must be a positive integer/],
    ['a manifest deployed under another id', { '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('digits') }, /says its id is digits, but it is deployed as faces/],
    ['a manifest naming a missing attributes file', { '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces') }, /\/models\/faces\/attributes\.json is named by the deployed bundle/],
    ['vectors of the wrong length', { '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2, 3]) }, /"vector" must be 2 finite numbers/],
    ['vectors of another model version', { '/models/index.json': { models: ['faces'] }, '/models/faces/manifest.json': manifest('faces'), '/models/faces/attributes.json': attributes([1, 2], 'v0') }, /computed for model version v0, but the deployed faces model is version v1; recompute/],
  ])('reports %s as a DataError (503) naming the problem', async (_, files, pattern) => {
    const error = await new BundleStore().model(new MemorySite(files), ORIGIN, 'faces').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).status).toBe(503);
    expect((error as DataError).message).toMatch(pattern);
  });
});

describe('routes over a broken deployment (handlers called with an in-memory site)', () => {
  const site = new MemorySite({
    '/models/index.json': { models: ['good', 'broken'] },
    '/models/good/manifest.json': manifest('good'),
    '/models/good/attributes.json': attributes([0.5, -1]),
    '/models/broken/manifest.json': manifest('broken'),
    '/models/broken/attributes.json': attributes([1, 2], 'v0'),
  });
  type Handler = (context: ApiContext) => Promise<Response>;
  function run(handler: Handler, path: string, params: Record<string, string>): Promise<Response> {
    return handler({ request: new Request(`https://broken.test${path}`), env: { ASSETS: site }, params });
  }

  it('answers the broken model with a JSON 503 that names the file, and the good one as usual', async () => {
    const broken = await run(mixRoute.onRequest, '/api/models/broken/mix?Smiling=1', { id: 'broken' });
    expect(broken.status).toBe(503);
    expect(broken.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    const { error } = (await broken.json()) as { error: string };
    expect(error).toMatch(/^\/models\/broken\/attributes\.json was computed for model version v0/);
    expect(error).not.toMatch(/\n\s+at /);

    const good = await run(mixRoute.onRequest, '/api/models/good/mix?Smiling=2', { id: 'good' });
    expect(good.status).toBe(200);
    expect(((await good.json()) as { vector: number[] }).vector).toEqual([1, -2]);
    const vector = await run(vectorRoute.onRequest, '/api/models/good/attributes/Smiling', { id: 'good', name: 'Smiling' });
    expect(((await vector.json()) as { vector: number[] }).vector).toEqual([0.5, -1]);
  });

  it('leaves the broken model out of /api/models instead of failing the whole list', async () => {
    const response = await run(listRoute.onRequest, '/api/models', {});
    expect(response.status).toBe(200);
    expect(((await response.json()) as { models: { id: string }[] }).models.map((m) => m.id)).toEqual(['good']);
  });
});
