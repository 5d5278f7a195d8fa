/**
 * Loads a model bundle in the browser: the manifest first (it names every
 * other file and its size), then the decoder's model.json, its weight shards
 * and the latent map, counting bytes as they arrive so the page can show real
 * download progress. Nothing here needs tfjs, so the downloads run while the
 * tfjs chunks are still being fetched and compiled; tfjs receives the decoder
 * as in-memory artifacts.
 */
import type { io } from '@tensorflow/tfjs-core';
import { parseManifest, resolveBundlePath, type BundleManifest } from '../../../lib/bundle.ts';
import { decodePrior, parsePriorFile, type LatentPrior } from '../../../lib/prior.ts';
import { ByteProgress, fileKey, type ProgressSnapshot } from './progress.ts';

export type Fetcher = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/** The page's own fetch, called as a function (a detached `fetch` throws "Illegal invocation"). */
const networkFetch: Fetcher = (input, init) => fetch(input, init);

/** A fetch (over the network, or `inner`) that reports every body byte to `progress`, named relative to `base` (the manifest URL). */
export function countingFetch(progress: ByteProgress, base: string, inner: Fetcher = networkFetch): Fetcher {
  return async (input, init) => {
    const url = new URL(urlOf(input), base).href;
    const res = await inner(input, init);
    const name = fileKey(url, base);
    if (!res.ok || !res.body) return res;
    // A compressed response's Content-Length counts compressed bytes; the body is read decompressed.
    const length = res.headers.get('content-encoding') ? null : Number(res.headers.get('content-length')) || null;
    progress.started(name, length);
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      progress.add(name, value.byteLength);
    }
    progress.finished(name);
    return new Response(new Blob(chunks as BlobPart[]), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

async function fetchOk(fetcher: Fetcher, url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetcher(url);
  } catch (e) {
    throw new Error(`could not fetch ${what} (${(e as Error).message}); check the connection and reload`);
  }
  if (!res.ok) throw new Error(`${what} answered HTTP ${res.status} at ${new URL(url, globalThis.location?.href).pathname}`);
  return res;
}

async function fetchJson(fetcher: Fetcher, url: string, what: string): Promise<unknown> {
  const res = await fetchOk(fetcher, url, what);
  try {
    return await res.json();
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** The files of a bundle the studio downloads: the decoder folder and the latent map. */
export function filesToDownload(manifest: BundleManifest): string[] {
  const decoderDir = manifest.decoder.slice(0, manifest.decoder.lastIndexOf('/') + 1);
  const names = Object.keys(manifest.files ?? {}).filter((f) => decoderDir !== '' && f.startsWith(decoderDir));
  if (!names.includes(manifest.decoder)) names.push(manifest.decoder);
  if (manifest.latentMap) names.push(manifest.latentMap);
  return names;
}

export interface WeightPlan {
  topology: object;
  specs: io.WeightsManifestEntry[];
  /** Shard URLs in the order their bytes are concatenated (the order of weightsManifest). */
  shardUrls: string[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/**
 * Reads a tfjs layers-model model.json: the topology, the weight specs and the
 * shard URLs, resolved next to model.json. Shard paths must stay inside the
 * bundle, as the manifest's paths must.
 */
export function planWeights(json: unknown, modelUrl: string): WeightPlan {
  const where = new URL(modelUrl).pathname;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where} must be a JSON object`);
  const m = json as Record<string, unknown>;
  if (typeof m.modelTopology !== 'object' || m.modelTopology === null) throw new Error(`${where} has no modelTopology`);
  if (!Array.isArray(m.weightsManifest)) throw new Error(`${where} has no weightsManifest`);
  const specs: io.WeightsManifestEntry[] = [];
  const shardUrls: string[] = [];
  for (const group of m.weightsManifest as unknown[]) {
    const g = group as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new Error(`${where}: every weightsManifest group needs "paths" and "weights"`);
    for (const p of g.paths) {
      const safe = typeof p === 'string' && p.length > 0 && !p.startsWith('/') && !p.includes('\\') && !/^[a-z]+:/i.test(p) && !p.split('/').includes('..');
      if (!safe) throw new Error(`${where}: weight path ${JSON.stringify(p)} must be relative and inside the bundle`);
      shardUrls.push(resolveBundlePath(modelUrl, p));
    }
    specs.push(...(g.weights as io.WeightsManifestEntry[]));
  }
  return {
    topology: m.modelTopology as object,
    specs,
    shardUrls,
    format: typeof m.format === 'string' ? m.format : undefined,
    generatedBy: typeof m.generatedBy === 'string' ? m.generatedBy : undefined,
    convertedBy: typeof m.convertedBy === 'string' ? m.convertedBy : null,
  };
}

/** Joins shards into one buffer, in order. */
export function concatBuffers(parts: readonly ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out.buffer;
}

export interface ManifestStage {
  manifestUrl: string;
  manifest: BundleManifest;
  fetcher: Fetcher;
}

/** Step one: the manifest, which names (and sizes) everything else, of a model the site publishes. */
export async function loadManifest(modelId: string, onProgress: (s: ProgressSnapshot) => void): Promise<ManifestStage> {
  return loadManifestAt(new URL(`/models/${modelId}/manifest.json`, location.href).href, `${modelId}/manifest.json`, onProgress);
}

/**
 * Step one for a bundle anywhere: the manifest at `manifestUrl` (absolute),
 * read through `inner` (the network, or files held in memory:
 * bundle-source.ts); `where` names it in errors. Later steps read through the same fetcher.
 */
export async function loadManifestAt(manifestUrl: string, where: string, onProgress: (s: ProgressSnapshot) => void, inner?: Fetcher): Promise<ManifestStage> {
  const progress = new ByteProgress(onProgress);
  const fetcher = countingFetch(progress, manifestUrl, inner);
  progress.expect('manifest.json', undefined);
  const manifest = parseManifest(await fetchJson(fetcher, manifestUrl, 'the model manifest'), where);
  for (const name of filesToDownload(manifest)) progress.expect(name, manifest.files?.[name]);
  return { manifestUrl, manifest, fetcher };
}

/** Step two: the decoder as in-memory artifacts for tfjs (topology, weight specs, weight bytes). */
export function loadDecoderArtifacts(stage: ManifestStage): Promise<io.ModelArtifacts> {
  return loadNetworkArtifacts(stage, stage.manifest.decoder, 'the decoder', stage.fetcher);
}

/**
 * The encoder, for settling sampled faces (lib/settle.ts), or null when the
 * bundle has none. Fetched after the first face, outside the byte progress.
 */
export async function loadEncoderArtifacts(stage: ManifestStage, fetcher: Fetcher = fetch): Promise<io.ModelArtifacts | null> {
  return stage.manifest.encoder ? loadNetworkArtifacts(stage, stage.manifest.encoder, 'the encoder', fetcher) : null;
}

async function loadNetworkArtifacts(stage: ManifestStage, path: string, what: string, fetcher: Fetcher): Promise<io.ModelArtifacts> {
  const modelUrl = resolveBundlePath(stage.manifestUrl, path);
  const plan = planWeights(await fetchJson(fetcher, modelUrl, what), modelUrl);
  const shards = await Promise.all(
    plan.shardUrls.map(async (url) => (await fetchOk(fetcher, url, `${what} weights ${fileKey(url, stage.manifestUrl)}`)).arrayBuffer()),
  );
  return {
    modelTopology: plan.topology,
    weightSpecs: plan.specs,
    weightData: concatBuffers(shards),
    format: plan.format,
    generatedBy: plan.generatedBy,
    convertedBy: plan.convertedBy,
  };
}

/** The latent map named by the manifest (parsed JSON, checked by the caller), or null. */
export async function loadLatentMap(stage: ManifestStage): Promise<unknown> {
  if (!stage.manifest.latentMap) return null;
  return fetchJson(stage.fetcher, resolveBundlePath(stage.manifestUrl, stage.manifest.latentMap), 'the latent map');
}

/**
 * The learned prior named by the manifest, or null when the bundle has none.
 * Small (tens of KiB) and fetched beside the decoder's shards, outside the
 * byte progress, so it never holds up the first image.
 */
export async function loadPrior(stage: ManifestStage, fetcher: Fetcher = fetch): Promise<LatentPrior | null> {
  if (!stage.manifest.prior) return null;
  const url = resolveBundlePath(stage.manifestUrl, stage.manifest.prior);
  const file = parsePriorFile(await fetchJson(fetcher, url, 'the learned prior'), stage.manifest.latentDim, stage.manifest.prior);
  const dataUrl = resolveBundlePath(url, file.data);
  const bytes = new Uint8Array(await (await fetchOk(fetcher, dataUrl, 'the learned prior\'s data')).arrayBuffer());
  return decodePrior(file, bytes, file.data);
}
