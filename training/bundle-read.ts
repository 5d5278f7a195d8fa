/** Reads a bundle from disk for Node tools (sample, prior): manifest, networks and the learned prior, with errors that say what to do. */
import type * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type BundleManifest } from '../lib/bundle.ts';
import { decodePrior, parsePriorFile, type LatentPrior } from '../lib/prior.ts';
import { loadLayersModelFromDir } from './export.ts';

export class BundleReadError extends Error {}

/** The checked manifest of the bundle in `dir`. */
export function readManifest(dir: string): BundleManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new BundleReadError(`${dir} is not a model bundle: it has no manifest.json (bundles live under public/models/<id>/)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BundleReadError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseManifest(json, path);
  } catch (e) {
    throw new BundleReadError((e as Error).message);
  }
}

/** The bundle's learned prior; a clear error when it has none or its files are damaged. */
export function readPrior(dir: string, manifest: BundleManifest): LatentPrior {
  const name = manifest.prior;
  if (!name) throw new BundleReadError(`${dir} has no learned prior (its manifest names no "prior"); fit one with npm run prior -- --bundle ${dir} --data-dir DIR`);
  const path = join(dir, name);
  if (!existsSync(path)) throw new BundleReadError(`${path} is missing, though the manifest names it`);
  try {
    const file = parsePriorFile(JSON.parse(readFileSync(path, 'utf8')), manifest.latentDim, path);
    const dataPath = join(dir, file.data);
    if (!existsSync(dataPath)) throw new BundleReadError(`${dataPath} is missing, though ${path} names it`);
    return decodePrior(file, new Uint8Array(readFileSync(dataPath)), dataPath);
  } catch (e) {
    if (e instanceof BundleReadError) throw e;
    throw new BundleReadError(e instanceof SyntaxError ? `${path} is not valid JSON: ${e.message}` : (e as Error).message);
  }
}

/** Loads one of the bundle's networks ("decoder" or "encoder"). */
export async function readNetwork(dir: string, manifest: BundleManifest, which: 'decoder' | 'encoder'): Promise<tf.LayersModel> {
  const rel = manifest[which];
  if (!rel) throw new BundleReadError(`${dir} has no ${which}`);
  const folder = join(dir, rel.replace(/\/?model\.json$/, ''));
  if (!existsSync(join(folder, 'model.json'))) throw new BundleReadError(`${join(folder, 'model.json')} is missing, though the manifest names it`);
  return loadLayersModelFromDir(folder);
}
