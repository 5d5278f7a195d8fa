/**
 * Where a studio's bundle comes from: the model the site publishes, a bundle
 * folder elsewhere on this site (`?bundle=/models/mine/`), or one kept in this
 * browser (`?bundle=local:trained`, local-bundles.ts). Files held in memory are
 * served by a Fetcher of their own, so every source goes through the same
 * loader (bundle-loader.ts) from the manifest on.
 */
import type { TarEntry } from '../../../lib/tar.ts';
import { checkBundleEntries } from './bundle-entries.ts';
import { loadManifestAt, loadManifest, type Fetcher, type ManifestStage } from './bundle-loader.ts';
import { loadLocalBundle } from './local-bundles.ts';
import type { ProgressSnapshot } from './progress.ts';

export type BundleSource =
  | { kind: 'published'; modelId: string }
  /** A folder on this origin; `path` ends with "/". */
  | { kind: 'site'; path: string }
  | { kind: 'local'; name: string };

/** Names of bundles kept in this browser: short, and safe inside a URL path. */
export const LOCAL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

function contentType(path: string): string {
  return path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

/**
 * A fetch over files held in memory, as if they were served from `baseUrl`
 * (a folder URL, or the manifest's URL beside them): 200 with the bytes for a
 * file it holds, 404 for any other URL, 405 for anything but GET and HEAD.
 * Where a path appears twice the later file wins, as when tar unpacks.
 */
export function memoryFetcher(entries: readonly TarEntry[], baseUrl: string): Fetcher {
  const files = new Map(entries.map((e) => [new URL(e.path, baseUrl).href, e]));
  return async (input, init) => {
    const request = new Request(input, init);
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, statusText: 'Method Not Allowed' });
    const url = new URL(request.url);
    url.hash = '';
    const file = files.get(url.href);
    if (!file) return new Response(`${url.pathname} is not in this bundle`, { status: 404, statusText: 'Not Found' });
    const headers = { 'content-type': contentType(file.path), 'content-length': String(file.bytes.byteLength) };
    return new Response(request.method === 'HEAD' ? null : (file.bytes.slice() as Uint8Array<ArrayBuffer>), { status: 200, headers });
  };
}

/**
 * Reads `?bundle=`: absent means the published model; `local:<name>` a bundle
 * kept in this browser; a path (or URL) on this origin a bundle folder there.
 * Anything else gets a sentence saying what the parameter may hold.
 */
export function readBundleParam(search: string, pageUrl: string, modelId: string): { source: BundleSource; problem: string | null } {
  const published: BundleSource = { kind: 'published', modelId };
  const value = new URLSearchParams(search).get('bundle');
  if (value === null) return { source: published, problem: null };
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  const local = /^local:(.*)$/s.exec(value);
  if (local) {
    if (LOCAL_NAME.test(local[1]!)) return { source: { kind: 'local', name: local[1]! }, problem: null };
    return { source: published, problem: `the bundle ${shown} does not name a model saved in this browser: after "local:" come letters, digits, "-" or "_" (such as local:trained)` };
  }
  let url: URL | null = null;
  try {
    if (value.startsWith('/') || /^https?:\/\//i.test(value)) url = new URL(value, pageUrl);
  } catch {
    url = null;
  }
  if (!url) return { source: published, problem: `the bundle ${shown} is neither local:<name> (a model saved in this browser) nor a folder on this site such as /models/mine/` };
  const page = new URL(pageUrl);
  if (url.origin !== page.origin) return { source: published, problem: `the bundle ${shown} is on another site; this page loads bundles from ${page.origin} only (copy the bundle folder under public/models/, or open its .tar with "Open a bundle file")` };
  const folder = url.pathname.endsWith('/manifest.json') ? url.pathname.slice(0, -'manifest.json'.length) : url.pathname.replace(/\/?$/, '/');
  return { source: { kind: 'site', path: folder }, problem: null };
}

/** What the page says it shows: "Model trained in your browser", "Model served from /models/mine/". */
export function sourceTitle(source: BundleSource): string {
  if (source.kind === 'published') return 'The model this site publishes';
  if (source.kind === 'site') return `Model served from ${source.path}`;
  if (source.name === 'trained') return 'Model trained in your browser';
  if (source.name === 'opened') return 'Model opened from a bundle file';
  return `Model saved in this browser as "${source.name}"`;
}

/** The manifest stage of a bundle kept in this browser, its files checked first (a missing one is named here, not half-way through loading). */
async function localStage(name: string, onProgress: (s: ProgressSnapshot) => void): Promise<ManifestStage> {
  const stored = await loadLocalBundle(name);
  if (!stored) {
    throw new Error(name === 'trained' ? 'no model trained in this browser yet — train one at /digits/train' : `no model is saved in this browser as "${name}" — open its .tar with "Open a bundle file", or train one at /digits/train`);
  }
  const where = name === 'trained' ? 'the model trained in this browser' : `the model saved in this browser as "${name}"`;
  const { entries } = checkBundleEntries(stored, where);
  const base = new URL(`/local-bundles/${name}/`, location.href).href;
  return loadManifestAt(`${base}manifest.json`, `${where}: manifest.json`, onProgress, memoryFetcher(entries, base));
}

/** Step one of loading from any source: the manifest, and the fetcher the later steps read through. */
export function loadSourceManifest(source: BundleSource, onProgress: (s: ProgressSnapshot) => void): Promise<ManifestStage> {
  if (source.kind === 'published') return loadManifest(source.modelId, onProgress);
  if (source.kind === 'site') return loadManifestAt(new URL(`${source.path}manifest.json`, location.href).href, `${source.path}manifest.json`, onProgress);
  return localStage(source.name, onProgress);
}
