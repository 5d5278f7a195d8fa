/**
 * Build time only: reads a bundle from public/models/<id>/ for the uses pages
 * and the model cards, through its manifest (every file it reads is one the
 * manifest names). A bundle that is missing or broken reads as an explanation,
 * never a failed build: the page says what is wrong and how to fix it.
 */
import { parseLatentMap, parseManifest, type BundleManifest, type LatentMap, type TrainingHistory } from '../../lib/bundle.ts';
import { usesMetricsOf, type UsesMetrics } from '../../lib/uses.ts';
import { listedModelsOnDisk } from './catalog.ts';

export interface BundleOnDisk {
  id: string;
  manifest: BundleManifest;
  /** The URL path of a bundle file on the site, e.g. /models/digits/samples.png. */
  href(relative: string): string;
  /** Parses a JSON file the manifest names; null (and a note in `problems`) if it cannot be read. */
  json(relative: string | null | undefined): Promise<unknown>;
  /** Pixel size of a PNG the manifest names; null (and a note in `problems`) if it is not a readable PNG. */
  pngSize(relative: string): Promise<{ width: number; height: number } | null>;
  uses: UsesMetrics | null;
  /** Things the page should admit to: unreadable files, stale metrics. */
  problems: string[];
}

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

function modelsDir(root: string): string {
  return `${root.replace(/\/$/, '')}/public/models`;
}

export async function bundleIds(root: string = process.cwd()): Promise<string[]> {
  return listedModelsOnDisk(root);
}

export async function readBundle(id: string, root: string = process.cwd()): Promise<BundleOnDisk | { id: string; error: string }> {
  const dir = `${modelsDir(root)}/${id}`;
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(JSON.parse(await readText(`${dir}/manifest.json`)), `public/models/${id}/manifest.json`);
  } catch (e) {
    return { id, error: (e as Error).message };
  }
  const problems: string[] = [];
  let uses: UsesMetrics | null = null;
  try {
    uses = usesMetricsOf(manifest);
  } catch (e) {
    problems.push(`${(e as Error).message}; run npm run evaluate -- --bundle public/models/${id} again`);
  }
  if (uses && uses.modelVersion !== manifest.version) {
    problems.push(`the uses metrics were computed for model version ${uses.modelVersion}, but the bundle is now version ${manifest.version}; run npm run evaluate -- --bundle public/models/${id}`);
  }
  return {
    id,
    manifest,
    uses,
    problems,
    href: (relative) => `/models/${id}/${relative}`,
    pngSize: async (relative) => {
      try {
        const { readFile } = await import('node:fs/promises');
        const size = pngSize(await readFile(`${dir}/${relative}`));
        if (!size) problems.push(`public/models/${id}/${relative} is not a PNG image`);
        return size;
      } catch (e) {
        problems.push(`public/models/${id}/${relative} could not be read (${(e as Error).message.split('\n')[0]})`);
        return null;
      }
    },
    json: async (relative) => {
      if (!relative) return null;
      try {
        return JSON.parse(await readText(`${dir}/${relative}`));
      } catch (e) {
        problems.push(`public/models/${id}/${relative} could not be read (${(e as Error).message.split('\n')[0]})`);
        return null;
      }
    },
  };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's header (its first chunk, IHDR), or null when the bytes are not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}

export function isBundle(b: BundleOnDisk | { id: string; error: string }): b is BundleOnDisk {
  return 'manifest' in b;
}

/** history.json as epochs, or null when it is missing or has another shape. */
export function historyOf(json: unknown): TrainingHistory | null {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as TrainingHistory).epochs)) return null;
  const epochs = (json as TrainingHistory).epochs.filter((e) => e && typeof e.epoch === 'number' && e.train && e.test);
  return epochs.length ? { epochs } : null;
}

/** latent-map.json, or null when it has another shape (lib/bundle.ts's parseLatentMap says which). */
export function latentMapOf(json: unknown): LatentMap | null {
  try {
    return parseLatentMap(json);
  } catch {
    return null;
  }
}

/** Share of the most common label: the accuracy of always guessing it, and the purity of a single cluster. */
export function commonestShare(labels: readonly number[]): number {
  if (labels.length === 0) return NaN;
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

/** Formatting shared by the pages. */
export const fmt = {
  pct: (v: number, digits = 1) => (Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : '—'),
  num: (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—'),
  int: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-GB') : '—'),
  duration: (seconds: number) => {
    if (!Number.isFinite(seconds)) return '—';
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
  },
};
