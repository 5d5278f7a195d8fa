/**
 * Loads a model bundle in the browser: the manifest first (it names every
 * other file and its size), then the decoder and the latent map, counting
 * bytes as they arrive so the page can show real download progress.
 */
import { parseManifest, resolveBundlePath, type BundleManifest } from '../../lib/bundle.ts';
import { tf } from './tf-runtime.ts';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { ByteProgress, fileKey, type ProgressSnapshot } from './progress.ts';

export type Fetcher = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/** A fetch that reports every body byte to `progress`, named relative to `base` (the manifest URL). */
export function countingFetch(progress: ByteProgress, base: string): Fetcher {
  return async (input, init) => {
    const url = new URL(urlOf(input), base).href;
    const res = await fetch(input, init);
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

export interface LoadedBundle {
  manifestUrl: string;
  manifest: BundleManifest;
  decoder: LayersModel;
  /** Parsed latent-map.json, when the manifest names one. */
  latentMap: unknown;
}

async function fetchJson(fetcher: Fetcher, url: string, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetcher(url);
  } catch (e) {
    throw new Error(`could not fetch ${what} (${(e as Error).message}); check the connection and reload`);
  }
  if (!res.ok) throw new Error(`${what} answered HTTP ${res.status} at ${new URL(url, location.href).pathname}`);
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

export interface ManifestStage {
  manifestUrl: string;
  manifest: BundleManifest;
  fetcher: Fetcher;
  progress: ByteProgress;
}

/** Step one: the manifest, which names (and sizes) everything else. Needs no tfjs backend. */
export async function loadManifest(modelId: string, onProgress: (s: ProgressSnapshot) => void): Promise<ManifestStage> {
  const manifestUrl = new URL(`/models/${modelId}/manifest.json`, location.href).href;
  const progress = new ByteProgress(onProgress);
  const fetcher = countingFetch(progress, manifestUrl);
  progress.expect('manifest.json', undefined);
  const manifest = parseManifest(await fetchJson(fetcher, manifestUrl, 'the model manifest'), `${modelId}/manifest.json`);
  for (const name of filesToDownload(manifest)) progress.expect(name, manifest.files?.[name]);
  return { manifestUrl, manifest, fetcher, progress };
}

/** Step two, once a backend runs: the decoder (its weights become tensors on that backend) and the latent map. */
export async function loadModelFiles(stage: ManifestStage): Promise<LoadedBundle> {
  const { manifestUrl, manifest, fetcher } = stage;
  const decoderUrl = resolveBundlePath(manifestUrl, manifest.decoder);
  const [decoder, latentMap] = await Promise.all([
    loadLayersModel(tf.io.http(decoderUrl, { fetchFunc: fetcher })).catch((e: Error) => {
      throw new Error(`the decoder at ${new URL(decoderUrl).pathname} could not be loaded (${e.message})`);
    }),
    manifest.latentMap ? fetchJson(fetcher, resolveBundlePath(manifestUrl, manifest.latentMap), 'the latent map') : Promise.resolve(null),
  ]);
  return { manifestUrl, manifest, decoder, latentMap };
}
