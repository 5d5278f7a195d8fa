import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAttributes, parseManifest } from '../../lib/bundle.ts';
import { attributesVersion, steerAttributes, steerOffset } from '../../lib/steer.ts';
import { runAttributeStep } from '../../training/attributes-build.ts';
import { selectBackend } from '../../training/backend.ts';
import { loadCelebA } from '../../training/data/celeba.ts';
import { writeAvatarSet } from '../../training/data/avatars.ts';
import { DIRECTION_METHODS } from '../../training/directions.ts';
import { addAttributesToBundle } from '../../training/faces.ts';
import { train } from '../../training/train.ts';
import { buildVae, facesArchitecture } from '../../lib/vae-model.ts';
import { writeBundle } from '../../training/write-bundle.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

beforeAll(async () => {
  await selectBackend('wasm', 2);
});

describe('npm run attributes on a short face run', () => {
  it('writes calibrated directions (format 2), the table with every method, keep on and the old vectors, and the sheet', { timeout: 600_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'attrs-'));
    await writeAvatarSet({ count: 360, out: join(root, 'avatars'), seed: 5, testFraction: 1 / 6 });
    await writeAvatarSet({ count: 1500, out: join(root, 'judge'), seed: 6, testFraction: 1 / 6 });
    const load = (dir: string) => loadCelebA(join(root, dir), { size: [32, 32], cacheDir: join(root, 'cache'), log: null });
    const data = await load('avatars');
    const models = buildVae(data.image, 8, facesArchitecture(data.image, [8, 16, 16, 16]), 1);
    const settings = { epochs: 1, batchSize: 50, learningRate: 2e-3, beta: 1, seed: 1, latentDim: 8, trainLimit: 0, testLimit: 0, checkpointPath: join(root, 'f.ckpt'), checkpointMinutes: 60 };
    const { state } = await train(models, data, settings, { resume: false, command: 'test', log: () => undefined });
    const out = join(root, 'bundle', 'faces');
    let manifest = await writeBundle(models, data, state, state.history[0]!.test, { id: 'faces', title: 'Faces', description: '', outDir: out, float16: true, backend: 'wasm', mapPoints: 0 });
    manifest = await addAttributesToBundle(models, data, manifest, out, { log: () => undefined, scales: [2], perAttribute: 12, classifierEpochs: 1 });
    const only = ['Smiling', 'Eyeglasses', 'Black_Hair'];
    manifest = await runAttributeStep({
      dir: out, manifest, data, encoder: models.encoder, decoder: models.decoder, judgeDir: join(root, 'judge'), loadJudgeData: () => load('judge'),
      cacheDir: join(root, 'cache'), methods: DIRECTION_METHODS, calibrationFaces: 200, calibrationPerSide: 8, testPerSide: 8, only, command: 'test',
    });

    const m = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    const file = parseAttributes(JSON.parse(readFileSync(join(out, 'attributes.json'), 'utf8')), m);
    expect(file.format).toBe(2);
    expect(file.version).toBe(attributesVersion(file));
    for (const a of file.attributes) {
      expect(only).toContain(a.name);
      expect(DIRECTION_METHODS).toContain(a.method);
      expect(a.scale!.add).toBeGreaterThan(0);
      expect(a.scale!.remove).toBeGreaterThan(0);
      expect(Math.hypot(...a.vector)).toBeCloseTo(1, 3);
      expect(Math.hypot(...a.normal!)).toBeCloseTo(1, 3);
    }
    expect(file.attributes.find((a) => a.name === 'Black_Hair')!.group).toBe('hair');
    // Slider +1 moves a face exactly the calibrated add distance.
    const smiling = file.attributes.find((a) => a.name === 'Smiling')!;
    expect(Math.hypot(...steerOffset(steerAttributes(file), [{ name: 'Smiling', weight: 1 }], 8))).toBeCloseTo(smiling.scale!.add * Math.hypot(...smiling.vector), 4);

    const edits = m.metrics.attributeEdits as { rows: { name: string; method: string; add: number; kept: { add: number }; methods: Record<string, { add: number }>; before?: { add: number }; addShowable?: number; showsOn?: string }[]; before?: { scale: number } };
    expect(edits.rows.map((r) => r.name).sort()).toEqual([...only].sort());
    for (const r of edits.rows) {
      expect(Object.keys(r.methods).sort()).toEqual([...DIRECTION_METHODS].sort());
      expect(r.add).toBe(r.methods[r.method]!.add);
      for (const v of [r.add, r.kept.add, r.before!.add]) expect(v).toBeGreaterThanOrEqual(0);
    }
    // A hair colour is also reported on the faces where it can show.
    const hair = edits.rows.find((r) => r.name === 'Black_Hair')!;
    expect(hair.showsOn).toMatch(/faces with hair/);
    expect(typeof hair.addShowable).toBe('number');
    expect(edits.before!.scale).toBe(2);
    expect(m.training.attributesCommand).toBe('test');
    expect(existsSync(join(out, 'attribute-edits.png'))).toBe(true);
  });
});

/** A folder that passes the judge set's first check (its label file is there), so the data-dir check is the one that answers. */
const JUDGE_LOOKALIKE = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-lookalike-'));
  writeFileSync(join(dir, 'list_attr_celeba.txt'), '0\n');
  return dir;
})();

describe('npm run attributes, bad input', () => {
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/attributes-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  it.each([
    [[], /--bundle and --judge-data are required/],
    [['--bundle', 'public/models/faces'], /--bundle and --judge-data are required/],
    [['--bundle', 'public/models/digits', '--judge-data', 'x'], /not a face bundle with an encoder/],
    [['--bundle', 'public/models/faces', '--judge-data', '/nonexistent'], /\/nonexistent: no list_attr_celeba\.txt there/],
    [['--bundle', 'public/models/faces', '--judge-data', JUDGE_LOOKALIKE, '--data-dir', '/nowhere'], /\/nowhere: no list_attr_celeba\.txt there; --data-dir takes the model's face set/],
    [['--bundle', 'public/models/faces', '--wat'], /Unknown option '--wat'/],
  ])('%j fails with a clear message and exit code 2', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/npm run attributes -- --help/);
  });

  it('prints its help', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--judge-data DIR/);
    expect(r.stdout).toMatch(/mean-difference,balanced-difference,regression,probe/);
  });
});
