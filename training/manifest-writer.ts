/**
 * The one writer of a bundle's manifest.json. Training writes it first
 * (createManifest); every later step (the attribute check, the learned prior,
 * npm run evaluate, new attribute directions) hands its change to
 * updateManifest, which reads the manifest on disk, applies the change, checks
 * the result with the bundle's own parser (lib/bundle.ts), refreshes the file
 * sizes and replaces the file in one rename, so a reader never sees half a
 * manifest and a step that breaks the contract writes nothing.
 *
 *   updateManifest(dir, (m) => ({ ...m, metrics: { ...m.metrics, mine: result } }))
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { BUNDLE_FORMAT, parseManifest, type BundleManifest } from '../lib/bundle.ts';
import { readManifest } from './bundle-read.ts';
import { writeJson } from './export.ts';

/** A manifest as a step hands it over: `format` and `files` are the writer's to fill in. */
export type ManifestDraft = Omit<BundleManifest, 'format' | 'files'> & Partial<Pick<BundleManifest, 'format' | 'files'>>;

/** Writes the bundle's first manifest.json, replacing any older one (training's export). */
export function createManifest(dir: string, manifest: ManifestDraft): BundleManifest {
  return commit(dir, manifest);
}

/** Reads the bundle's manifest, applies `change` and writes the result; returns what was written. */
export function updateManifest(dir: string, change: (manifest: BundleManifest) => ManifestDraft): BundleManifest {
  return commit(dir, change(readManifest(dir)));
}

function commit(dir: string, draft: ManifestDraft): BundleManifest {
  const path = join(dir, 'manifest.json');
  // The format first, the sizes last, every other key in the order the step gives it.
  const { files: _stale, ...fields } = draft;
  const full: BundleManifest = { format: BUNDLE_FORMAT, ...fields, files: fileSizes(dir) };
  parseManifest(full, `${path} (as about to be written)`);
  const temporary = `${path}.${process.pid}.tmp`;
  writeJson(temporary, full);
  renameSync(temporary, path);
  registerBundle(dir, full.id);
  return full;
}

/** Byte sizes of every file under `dir`, keyed by path relative to it. */
export function fileSizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      // The manifest does not list itself, nor a copy a crashed write left behind.
      else if (name !== 'manifest.json' && !name.startsWith('manifest.json.')) out[relative(dir, p)] = statSync(p).size;
    }
  };
  walk(dir);
  return out;
}

/** Adds the bundle's id to `<models>/index.json`, the list of deployed models. */
export function registerBundle(bundleDir: string, id: string): void {
  if (basename(bundleDir) !== id) return;
  const indexPath = join(dirname(bundleDir), 'index.json');
  let models: string[] = [];
  if (existsSync(indexPath)) {
    try {
      const parsed = JSON.parse(readFileSync(indexPath, 'utf8')) as { models?: unknown };
      if (Array.isArray(parsed.models)) models = parsed.models.filter((m): m is string => typeof m === 'string');
    } catch {
      models = [];
    }
  }
  if (!models.includes(id)) models.push(id);
  models.sort();
  writeJson(indexPath, { models });
}
