import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseManifest, type BundleManifest } from '../../lib/bundle.ts';
import { createManifest, updateManifest, type ManifestDraft } from '../../training/manifest-writer.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/models/digits/manifest.json', import.meta.url), 'utf8')) as BundleManifest;
const { format: _format, files: _files, ...draft } = fixture;

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A bundle folder named like its id, under a models folder, holding one decoder file. */
function bundleDir(): string {
  root = mkdtempSync(join(tmpdir(), 'manifest-writer-'));
  const dir = join(root, 'models', 'digits');
  mkdirSync(join(dir, 'decoder'), { recursive: true });
  writeFileSync(join(dir, 'decoder', 'model.json'), '{}');
  return dir;
}

const onDisk = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;

describe('the manifest writer', () => {
  it('writes the format first and every file size last, and lists the bundle in index.json', () => {
    const dir = bundleDir();
    const written = createManifest(dir, draft as ManifestDraft);
    expect(onDisk(dir)).toEqual(written);
    const keys = Object.keys(onDisk(dir));
    expect(keys[0]).toBe('format');
    expect(keys.at(-1)).toBe('files');
    expect(written.files).toEqual({ 'decoder/model.json': 2 });
    expect(JSON.parse(readFileSync(join(root, 'models', 'index.json'), 'utf8'))).toEqual({ models: ['digits'] });
  });

  it('merges a later step into the manifest on disk and keeps everything else', () => {
    const dir = bundleDir();
    createManifest(dir, draft as ManifestDraft);
    writeFileSync(join(dir, 'extra.json'), '[]');
    const written = updateManifest(dir, (m) => ({ ...m, metrics: { ...m.metrics, mine: { score: 1 } } }));
    expect(onDisk(dir)).toEqual(written);
    expect(parseManifest(onDisk(dir)).metrics.mine).toEqual({ score: 1 });
    expect(onDisk(dir).metrics.test).toEqual(fixture.metrics.test);
    expect(written.files).toEqual({ 'decoder/model.json': 2, 'extra.json': 2 });
    expect(readdirSync(dir).filter((f) => f.startsWith('manifest.json'))).toEqual(['manifest.json']);
  });

  it('writes nothing when the change breaks the bundle contract', () => {
    const dir = bundleDir();
    createManifest(dir, draft as ManifestDraft);
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    expect(() => updateManifest(dir, (m) => ({ ...m, decoder: '../elsewhere/model.json' }))).toThrow(/"decoder" must be a relative path inside the bundle/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((f) => f.startsWith('manifest.json'))).toEqual(['manifest.json']);
  });

  it('names the folder when there is no manifest to update', () => {
    const dir = bundleDir();
    expect(() => updateManifest(dir, (m) => m)).toThrow(/has no manifest\.json/);
  });
});
