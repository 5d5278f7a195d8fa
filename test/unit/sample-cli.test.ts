import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePrior, samplePrior, type GaussianMixturePrior } from '../../lib/prior.ts';
import { mulberry32 } from '../../lib/random.ts';
import { readManifest, readNetwork, readPrior } from '../../training/bundle-read.ts';
import { settleWith } from '../../training/settle-node.ts';
import { saveLayersModel } from '../../training/export.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const sample = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/sample-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

const PRIOR: GaussianMixturePrior = {
  kind: 'gmm',
  latentDim: 2,
  weights: Float64Array.from([0.5, 0.5]),
  means: Float32Array.from([-1, 0, 1, 0.5]),
  chol: Float32Array.from([0.5, 0.25, 0.5, 0.25, 0, 0.25]),
};

/** An encoder 4x4 grey -> [mean, log-variance] of 2 numbers each, as the bundles have. */
function tinyEncoder(): tf.LayersModel {
  const x = tf.input({ shape: [4, 4, 1] });
  const flat = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const mean = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(flat) as tf.SymbolicTensor;
  const logVar = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: [mean, logVar] });
}

/** The settle step the settling bundle ships: over-relaxed and corrected, as the build's. */
const STEP = { relax: 1.5, correction: { matrix: Float32Array.of(1.1, 0, 0.05, 0.9), offset: Float32Array.of(0.1, -0.1) } };

/** A real bundle on disk: a tiny dense decoder 2 -> 4x4 grey, its manifest, and the prior (with a settle count, and then an encoder). */
async function writeBundle(dir: string, withPrior: boolean, settle = 0): Promise<void> {
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [2], units: 16, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.reshape({ targetShape: [4, 4, 1] }));
  await saveLayersModel(m, join(dir, 'decoder'), { float16: false });
  if (settle) await saveLayersModel(tinyEncoder(), join(dir, 'encoder'), { float16: false });
  if (withPrior) {
    const { json, bin } = encodePrior({ ...PRIOR, ...(settle ? { settle, settleStep: STEP } : {}) }, { dtype: 'float32' });
    writeFileSync(join(dir, 'prior.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'prior.bin'), bin);
  }
  const manifest = {
    format: 1, id: 'tiny', title: 'Tiny', version: 'abc12345', latentDim: 2,
    image: { height: 4, width: 4, channels: 1 },
    decoder: 'decoder/model.json', encoder: settle ? 'encoder/model.json' : null, latentMap: null, attributes: null, history: null,
    ...(withPrior ? { prior: 'prior.json' } : {}),
    dataset: { name: 'test', train: 1, test: 1 },
    training: { command: 'none', epochs: 0, batchSize: 1, beta: 1, backend: 'cpu', seconds: 0 },
    metrics: { test: { negElbo: 0, reconstruction: 0, kl: 0 }, ...(withPrior ? { prior: { defaultTemperature: 0.5 } } : {}) },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('npm run sample', () => {
  let base: string;
  let bundle: string;
  let plain: string;
  let settling: string;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'sample-'));
    bundle = join(base, 'tiny');
    plain = join(base, 'plain');
    mkdirSync(bundle);
    mkdirSync(plain);
    await writeBundle(bundle, true);
    await writeBundle(plain, false);
    settling = join(base, 'settling');
    mkdirSync(settling);
    await writeBundle(settling, true, 2);
  });

  it('writes N codes as little-endian float32, the same as the site\'s sampler with that seed', () => {
    const out = join(base, 'codes.f32');
    const r = sample(['--bundle', bundle, '--count', '5', '--temperature', '0.8', '--seed', '42', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Wrote 5 codes \(5 x 2 float32, temperature 0.8, seed 42\)/);
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(5 * 2 * 4);
    const codes = Array.from({ length: 10 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(codes).toEqual(Array.from(samplePrior(PRIOR, 5, 0.8, mulberry32(42))));
  });

  it('uses the bundle\'s measured default temperature when none is given', () => {
    const out = join(base, 'default.f32');
    const r = sample(['--bundle', bundle, '--count', '3', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/temperature 0.5, seed 1/);
    const bytes = readFileSync(out);
    expect(Array.from({ length: 6 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(Array.from(samplePrior(PRIOR, 3, 0.5, mulberry32(1))));
  });

  it('with --sheet also writes a PNG of the decoded codes', () => {
    const sheet = join(base, 'sheet.png');
    const r = sample(['--bundle', bundle, '--count', '4', '--out', join(base, 's.f32'), '--sheet', sheet]);
    expect(r.status, r.stderr).toBe(0);
    const png = readFileSync(sheet);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // 2 x 2 tiles of 4 px with a 2 px gap: 2*4 + 3*2 = 14 px square.
    expect(png.readUInt32BE(16)).toBe(14);
    expect(png.readUInt32BE(20)).toBe(14);
  });

  it('settles the codes by the bundle\'s round trips as the studio does, by --settle N when asked, and not at all with --settle 0', async () => {
    const read = (f: string) => { const b = readFileSync(f); return Float32Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(i * 4)); };
    const raw = samplePrior(PRIOR, 3, 0.5, mulberry32(1));
    const dir = settling;
    const manifest = readManifest(dir);
    const [encoder, decoder] = await Promise.all([readNetwork(dir, manifest, 'encoder'), readNetwork(dir, manifest, 'decoder')]);
    for (const [args, trips] of [[[], 2], [['--settle', '1'], 1], [['--settle', '0'], 0]] as const) {
      const out = join(base, `settled-${trips}.f32`);
      const r = sample(['--bundle', dir, '--count', '3', '--out', out, ...args]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(trips ? `settled by ${trips} round trip` : 'seed 1)');
      const expected = await settleWith(encoder, decoder, raw, trips, 2, STEP);
      Array.from(read(out)).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
    const r = sample(['--bundle', bundle, '--count', '3', '--out', join(base, 'x.f32'), '--settle', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/has no encoder, so its samples cannot be settled; pass --settle 0/);
    const bad = sample(['--bundle', dir, '--count', '3', '--out', join(base, 'x.f32'), '--settle', '40']);
    expect(bad.stderr).toMatch(/--settle must be a whole number from 0 to 32, got "40"/);
  });

  it('refuses bad flags, a folder that is no bundle, a bundle without a prior and a damaged prior, each with a message', () => {
    const damaged = join(base, 'damaged');
    cpSync(bundle, damaged, { recursive: true });
    writeFileSync(join(damaged, 'prior.bin'), readFileSync(join(bundle, 'prior.bin')).subarray(0, 7));
    const out = join(base, 'x.f32');
    const cases: [string[], RegExp][] = [
      [['--count', '3', '--out', out], /--bundle is required/],
      [['--bundle', bundle, '--out', out], /--count is required/],
      [['--bundle', bundle, '--count', '3'], /--out is required/],
      [['--bundle', bundle, '--count', 'lots', '--out', out], /--count must be a whole number from 1 to 100000, got "lots"/],
      [['--bundle', bundle, '--count', '0', '--out', out], /--count must be a whole number from 1/],
      [['--bundle', bundle, '--count', '3', '--temperature=-1', '--out', out], /--temperature must be a number from 0 to 2, got "-1"/],
      [['--bundle', bundle, '--count', '3', '--seed', '1.5', '--out', out], /--seed must be a whole number/],
      [['--bundle', bundle, '--count', '3', '--out', out, '--sheet', 'faces.jpg'], /--sheet must name a \.png file/],
      [['--bundle', bundle, '--count', '3', '--out', out, '--bogus'], /Unknown option '--bogus'/],
      [['--bundle', join(base, 'nowhere'), '--count', '3', '--out', out], /is not a model bundle: it has no manifest\.json/],
      [['--bundle', plain, '--count', '3', '--out', out], /has no learned prior .* npm run prior -- --bundle/],
      [['--bundle', damaged, '--count', '3', '--out', out], /prior\.bin: has 7 bytes, expected 40 .* truncated/],
    ];
    for (const [args, message] of cases) {
      const r = sample(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).toMatch(/--help for usage/);
    }
    rmSync(damaged, { recursive: true });
  });

  it('--help lists every flag', () => {
    const r = sample(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--bundle', '--count', '--temperature', '--seed', '--out', '--settle', '--sheet']) expect(r.stdout).toContain(flag);
  });

  it('reads the committed faces bundle\'s prior: sized for its latent space, under 2 MB', () => {
    const dir = join(ROOT, 'public/models/faces');
    const manifest = readManifest(dir);
    expect(manifest.prior).toBe('prior.json');
    const prior = readPrior(dir, manifest);
    expect(prior.latentDim).toBe(manifest.latentDim);
    expect(manifest.files!['prior.bin']! + manifest.files!['prior.json']!).toBeLessThan(2 * 1024 * 1024);
    const z = samplePrior(prior, 100, 1, mulberry32(5));
    expect(z.every(Number.isFinite)).toBe(true);
  });
});
