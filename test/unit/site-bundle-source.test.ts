import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLatentMap, parseManifest } from '../../lib/bundle.ts';
import { decodeShareQuery, linkModelVersion } from '../../lib/latent-url.ts';
import { packTar, type TarEntry } from '../../lib/tar.ts';
import { checkBundleEntries } from '../../site/scripts/engine/bundle-entries.ts';
import { loadDecoderArtifacts, loadLatentMap, loadManifestAt, type Fetcher } from '../../site/scripts/engine/bundle-loader.ts';
import { memoryFetcher, readBundleParam, sourceTitle } from '../../site/scripts/engine/bundle-source.ts';
import { createDecoder } from '../../site/scripts/engine/decoder.ts';
import { loadLocalBundle, saveLocalBundle } from '../../site/scripts/engine/local-bundles.ts';
import { activateBackend } from '../../site/scripts/engine/tf-runtime.ts';
import { bundleSearch, mergeNotices, planeProblem, withoutBundle } from '../../site/scripts/digits/bundle-choice.ts';
import { readBundleTar } from '../../site/scripts/digits/bundle-picker.ts';
import { digitsFacts } from '../../site/scripts/digits/facts.ts';
import { pinnedSearch, readArrival } from '../../site/scripts/digits/share-state.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIGITS = join(ROOT, 'public/models/digits');
const PAGE = 'https://atelier.test/digits';
const text = (s: string) => new TextEncoder().encode(s);

/** The committed digits bundle as the training page's download holds one: decoder, manifest and latent map. */
const FILES = ['manifest.json', 'decoder/model.json', 'decoder/group1-shard1of1.bin', 'latent-map.json'];
const digits: TarEntry[] = FILES.map((path) => ({ path, bytes: new Uint8Array(readFileSync(join(DIGITS, path))) }));
const manifest = parseManifest(JSON.parse(readFileSync(join(DIGITS, 'manifest.json'), 'utf8')));

function replaced(path: string, bytes: Uint8Array | null): TarEntry[] {
  const rest = digits.filter((e) => e.path !== path);
  return bytes ? [...rest, { path, bytes }] : rest;
}

function withManifest(change: Record<string, unknown>): TarEntry[] {
  return replaced('manifest.json', text(JSON.stringify({ ...manifest, ...change })));
}

/** The committed files as the site serves them. */
const siteFetch: Fetcher = async (input) => {
  try {
    return new Response(readFileSync(join(ROOT, 'public', new URL(String(input)).pathname)));
  } catch {
    return new Response('not found', { status: 404 });
  }
};

describe('memoryFetcher (site/scripts/engine/bundle-source.ts)', () => {
  const base = 'https://atelier.test/local-bundles/trained/';
  const fetcher = memoryFetcher(digits, base);

  it('serves the files it holds as real Responses, relative to the base', async () => {
    const res = await fetcher(`${base}manifest.json`);
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Number(res.headers.get('content-length'))).toBe(digits[0]!.bytes.length);
    expect(((await res.json()) as { version: string }).version).toBe(manifest.version);
    const shard = await fetcher(new URL('decoder/group1-shard1of1.bin', base));
    expect(shard.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await shard.arrayBuffer()).equals(Buffer.from(digits[2]!.bytes))).toBe(true);
    expect((await fetcher(`${base}latent-map.json#x`)).status).toBe(200);
    expect(await (await fetcher(`${base}manifest.json`, { method: 'HEAD' })).text()).toBe('');
  });

  it('answers 404 for files it does not hold and 405 for writes', async () => {
    const missing = await fetcher(`${base}encoder/model.json`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('/local-bundles/trained/encoder/model.json is not in this bundle');
    expect((await fetcher('https://atelier.test/models/digits/manifest.json')).status).toBe(404);
    expect((await fetcher(`${base}manifest.json`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('lets a later file of the same path win, as tar does, and hands out copies', async () => {
    const f = memoryFetcher([{ path: 'a.json', bytes: text('1') }, { path: 'a.json', bytes: text('2') }], base);
    expect(await (await f(`${base}a.json`)).text()).toBe('2');
    const body = new Uint8Array(await (await fetcher(`${base}manifest.json`)).arrayBuffer());
    body[0] = 0;
    expect(digits[0]!.bytes[0]).toBe('{'.charCodeAt(0));
  });
});

describe('a bundle held in memory, through the real loader', () => {
  it('loads the committed digits bundle from tar entries and decodes what the published files decode', async () => {
    const base = 'https://atelier.test/local-bundles/opened/';
    const seen: number[] = [];
    const stage = await loadManifestAt(`${base}manifest.json`, 'opened/manifest.json', (p) => seen.push(p.loaded), memoryFetcher(digits, base));
    expect(stage.manifest).toEqual(manifest);
    const artifacts = await loadDecoderArtifacts(stage);
    expect(artifacts.weightData).toBeInstanceOf(ArrayBuffer);
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(digits[2]!.bytes.length);
    const map = parseLatentMap(await loadLatentMap(stage));
    expect(map.label.length).toBeGreaterThan(100);
    expect(Math.max(...seen)).toBe(digits.reduce((n, e) => n + e.bytes.length, 0));

    const published = await loadManifestAt('https://atelier.test/models/digits/manifest.json', 'digits/manifest.json', () => {}, siteFetch);
    await activateBackend('cpu');
    const fromMemory = await createDecoder(artifacts, 2, manifest.image);
    const fromSite = await createDecoder(await loadDecoderArtifacts(published), 2, manifest.image);
    const z = Float32Array.of(0.5, -1, 1.5, 0.25);
    const a = await fromMemory.decode(z);
    expect(a.length).toBe(2 * 28 * 28);
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(0.5);
    expect(Array.from(a)).toEqual(Array.from(await fromSite.decode(z)));
    fromMemory.dispose();
    fromSite.dispose();
  });

  it('names a file the manifest needs that the entries lack', async () => {
    const base = 'https://atelier.test/local-bundles/x/';
    const stage = await loadManifestAt(`${base}manifest.json`, 'x', () => {}, memoryFetcher(replaced('decoder/group1-shard1of1.bin', null), base));
    await expect(loadDecoderArtifacts(stage)).rejects.toThrow('the decoder weights decoder/group1-shard1of1.bin answered HTTP 404 at /local-bundles/x/decoder/group1-shard1of1.bin');
  });
});

describe('checking a bundle held in memory (site/scripts/engine/bundle-entries.ts)', () => {
  it('accepts the committed bundle at the top of a tar or inside one folder', () => {
    expect(checkBundleEntries(digits, 'a.tar').manifest).toEqual(manifest);
    const nested = checkBundleEntries(digits.map((e) => ({ ...e, path: `mine/${e.path}` })), 'b.tar');
    expect(nested.entries.map((e) => e.path)).toEqual(FILES);
  });

  it('names what is missing or malformed', () => {
    const check = (entries: TarEntry[]) => () => checkBundleEntries(entries, 'm.tar');
    expect(check(replaced('manifest.json', null))).toThrow('m.tar holds no manifest.json, so it is not a model bundle (a bundle has manifest.json at its top, beside decoder/)');
    expect(check([...digits.map((e) => ({ ...e, path: `a/${e.path}` })), ...digits.map((e) => ({ ...e, path: `b/${e.path}` }))])).toThrow('m.tar holds 2 bundles (a/manifest.json, b/manifest.json); open one at a time');
    expect(check(replaced('manifest.json', text('{"format": 1,')))).toThrow('manifest.json in m.tar is not valid JSON');
    expect(check(withManifest({ format: 7 }))).toThrow('manifest.json in m.tar: bundle format 7 is not supported');
    expect(check(replaced('decoder/model.json', null))).toThrow('m.tar has no decoder/model.json, which its manifest names as the decoder');
    expect(check(replaced('decoder/group1-shard1of1.bin', null))).toThrow('m.tar has no decoder/group1-shard1of1.bin, which its manifest names as decoder weights');
    expect(check(replaced('decoder/model.json', text('{"modelTopology": {}}')))).toThrow('m.tar: decoder/model.json has no weightsManifest');
    expect(check(replaced('latent-map.json', null))).toThrow('m.tar has no latent-map.json, which its manifest names as the latent map');
    expect(check(replaced('latent-map.json', text('{"classes": []}')))).toThrow('latent-map.json in m.tar: "classes" must be a non-empty array of names');
    expect(checkBundleEntries(withManifest({ latentMap: null, encoder: null }).filter((e) => e.path !== 'latent-map.json'), 'm.tar').manifest.latentMap).toBeNull();
  });
});

describe('opening a .tar in the digits studio (site/scripts/digits/bundle-picker.ts)', () => {
  it('takes the bundle the training page downloads', () => {
    expect(readBundleTar(packTar(digits), 'model.tar').map((e) => e.path)).toEqual(FILES);
  });

  it('refuses a file that is not a tar, a tar without a bundle, and a model that is not 2-D', () => {
    const png = new Uint8Array(readFileSync(join(DIGITS, 'samples.png')));
    expect(() => readBundleTar(png, 'samples.png')).toThrow('the file samples.png is not a tar file');
    expect(() => readBundleTar(packTar([{ path: 'notes.txt', bytes: text('hi') }]), 'notes.tar')).toThrow('the file notes.tar holds no manifest.json');
    expect(() => readBundleTar(packTar(withManifest({ latentDim: 64 })), 'faces.tar')).toThrow('the model in the file faces.tar has 64 latent dimensions; the digits studio draws a 2-D plane');
    expect(planeProblem(manifest, 'x')).toBeNull();
  });
});

describe('?bundle= (readBundleParam)', () => {
  const read = (search: string) => readBundleParam(search, PAGE, 'digits');

  it('reads the published model, a model kept in this browser, and a folder on this site', () => {
    expect(read('')).toEqual({ source: { kind: 'published', modelId: 'digits' }, problem: null });
    expect(read('?z=1&bundle=local:trained')).toEqual({ source: { kind: 'local', name: 'trained' }, problem: null });
    for (const value of ['/models/mine/', '/models/mine', '/models/mine/manifest.json', 'https://atelier.test/models/mine/']) {
      expect(read(`?bundle=${encodeURIComponent(value)}`), value).toEqual({ source: { kind: 'site', path: '/models/mine/' }, problem: null });
    }
  });

  it('refuses anything else with a sentence, and keeps the published model', () => {
    const published = { kind: 'published', modelId: 'digits' };
    for (const [value, words] of [
      ['local:', 'does not name a model saved in this browser'],
      ['local:../x', 'does not name a model saved in this browser'],
      ['mine', 'is neither local:<name>'],
      ['', 'is neither local:<name>'],
      ['https://evil.test/models/x/', 'is on another site; this page loads bundles from https://atelier.test only'],
      ['//evil.test/models/x/', 'is on another site'],
      ['/\\evil.test/x/', 'is on another site'],
      ['javascript:alert(1)', 'is neither local:<name>'],
    ] as const) {
      const r = read(`?bundle=${encodeURIComponent(value)}`);
      expect(r.source, value).toEqual(published);
      expect(r.problem, value).toContain(words);
    }
  });

  it('says which model the page shows', () => {
    expect(sourceTitle({ kind: 'local', name: 'trained' })).toBe('Model trained in your browser');
    expect(sourceTitle({ kind: 'local', name: 'opened' })).toBe('Model opened from a bundle file');
    expect(sourceTitle({ kind: 'local', name: 'mine' })).toBe('Model saved in this browser as "mine"');
    expect(sourceTitle({ kind: 'site', path: '/models/mine/' })).toBe('Model served from /models/mine/');
    const facts = digitsFacts(manifest, 10, { kind: 'local', name: 'trained' });
    expect(facts[0]).toEqual({ label: 'Source', value: 'Model trained in your browser' });
    expect(digitsFacts(manifest, 10, { kind: 'published', modelId: 'digits' })[0]!.label).toBe('Dataset');
    expect(digitsFacts(manifest, 0).find((f) => f.label === 'Map')!.value).toBe('none: this bundle has no latent map');
  });
});

describe('addresses and links of a bundle (bundle-choice.ts, share-state.ts)', () => {
  it('opens a bundle without the old point, and drops a bundle that failed, keeping the rest', () => {
    expect(bundleSearch('?z=1.cd6a7e7c.AAAA&backend=wasm&bundle=/models/x/', 'local:opened')).toBe('?bundle=local:opened&backend=wasm');
    expect(withoutBundle('?bundle=local:nope&z=1.cd6a7e7c.AAAA')).toBe('?z=1.cd6a7e7c.AAAA');
    expect(withoutBundle('?bundle=local:nope')).toBe('');
  });

  it('keeps the bundle in a pinned point\'s link, and the link reopens the point on that model', () => {
    const search = pinnedSearch('?bundle=local:trained&backend=wasm', [0.5, -1], 'a1b2c3d4');
    expect(search).toMatch(/^\?z=1\.a1b2c3d4\.[A-Za-z0-9_-]+&bundle=local:trained&backend=wasm$/);
    expect(readArrival(search, { version: 'a1b2c3d4', latentDim: 2 })).toEqual({ kind: 'point', z: [0.5, -1] });
    expect(readArrival(search, { version: manifest.version, latentDim: 2 }).kind).toBe('other-version');
  });

  it('makes links that open for a bundle whose version is not hex', () => {
    expect(linkModelVersion('cd6a7e7c')).toBe('cd6a7e7c');
    const v = linkModelVersion('trained 2025-06-01');
    expect(v).toMatch(/^[0-9a-f]{8}$/);
    const search = pinnedSearch('', [1, 2], 'trained 2025-06-01');
    expect(decodeShareQuery(new URLSearchParams(search), { version: v, latentDim: 2 }).ok).toBe(true);
    expect(readArrival(search, { version: 'trained 2025-06-01', latentDim: 2 })).toEqual({ kind: 'point', z: [1, 2] });
  });

  it('puts the bundle\'s problem before the link\'s in one notice', () => {
    const a = { kind: 'error' as const, title: 'A', text: 'One.' };
    const b = { kind: 'warning' as const, title: 'B', text: 'Two.' };
    expect(mergeNotices(a, b)).toEqual({ kind: 'error', title: 'A', text: 'One. Two.' });
    expect(mergeNotices(null, b)).toBe(b);
    expect(mergeNotices(a, null)).toBe(a);
  });
});

describe('bundles kept in this browser (local-bundles.ts)', () => {
  it('says clearly when the browser has no IndexedDB', async () => {
    expect(typeof indexedDB).toBe('undefined');
    await expect(saveLocalBundle('trained', digits)).rejects.toThrow('this browser cannot keep models here (IndexedDB is not available); private browsing blocks it in some browsers');
    await expect(loadLocalBundle('trained')).rejects.toThrow(/download the model as a \.tar instead/);
  });
});
