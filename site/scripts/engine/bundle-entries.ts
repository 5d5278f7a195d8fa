/**
 * A bundle held as files in memory (an opened .tar, a model kept in this
 * browser), checked before anything loads it: its manifest.json, found at the
 * top or inside one folder (a tar of the folder itself), parsed with the one
 * manifest parser, and every file the studio reads from it present (the
 * decoder, its weight shards, the latent map). A problem is a sentence that
 * names the file, so a bad bundle is refused before the page gives up the
 * model it shows.
 */
import { parseLatentMap, parseManifest, type BundleManifest } from '../../../lib/bundle.ts';
import type { TarEntry } from '../../../lib/tar.ts';
import { planWeights, type WeightPlan } from './bundle-loader.ts';

/** Stands in for the bundle's folder while paths are resolved; nothing is fetched from it. */
const FOLDER = 'https://bundle.invalid/';

/** The folder inside the archive that holds manifest.json: "" at the top, else "name/". */
function bundleRoot(entries: readonly TarEntry[], where: string): string {
  if (entries.some((e) => e.path === 'manifest.json')) return '';
  const nested = entries.filter((e) => /^[^/]+\/manifest\.json$/.test(e.path));
  if (nested.length === 1) return nested[0]!.path.slice(0, -'manifest.json'.length);
  if (nested.length > 1) throw new Error(`${where} holds ${nested.length} bundles (${nested.map((e) => e.path).join(', ')}); open one at a time`);
  throw new Error(`${where} holds no manifest.json, so it is not a model bundle (a bundle has manifest.json at its top, beside decoder/)`);
}

function json(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Checks the files of a bundle held in memory; returns them relative to the bundle's folder, with the parsed manifest. */
export function checkBundleEntries(all: readonly TarEntry[], where: string): { entries: TarEntry[]; manifest: BundleManifest } {
  const root = bundleRoot(all, where);
  const entries = all.filter((e) => e.path.startsWith(root)).map((e) => ({ path: e.path.slice(root.length), bytes: e.bytes }));
  const files = new Map(entries.map((e) => [e.path, e.bytes]));
  const file = (path: string, what: string): Uint8Array => {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`${where} has no ${root}${path}, which its manifest names as ${what}`);
    return bytes;
  };
  const manifest = parseManifest(json(files.get('manifest.json')!, `manifest.json in ${where}`), `manifest.json in ${where}`);
  const modelUrl = new URL(manifest.decoder, FOLDER).href;
  const decoder = json(file(manifest.decoder, 'the decoder'), `${manifest.decoder} in ${where}`);
  let plan: WeightPlan;
  try {
    plan = planWeights(decoder, modelUrl);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message.replace(/^\//, '')}`);
  }
  for (const url of plan.shardUrls) file(url.slice(FOLDER.length), 'decoder weights');
  if (manifest.latentMap) parseLatentMap(json(file(manifest.latentMap, 'the latent map'), `${manifest.latentMap} in ${where}`), `${manifest.latentMap} in ${where}`);
  return { entries, manifest };
}
