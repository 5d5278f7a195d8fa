/**
 * How long drawing one new face's code from the learned prior takes, beside
 * one decode of that code and settling it by the bundle's round trips
 * (lib/settle.ts: a decode and an encode each), in the same run (Node, wasm, one thread: the
 * decode worker's setting on a page without cross-origin isolation).
 * Writes bench/results/prior-sample.json.
 *
 *   npx tsx bench/prior-sample.ts [--bundle public/models/faces] [--count 200]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describePrior, samplePrior } from '../lib/prior.ts';
import { mulberry32 } from '../lib/random.ts';
import { selectBackend } from '../training/backend.ts';
import { readManifest, readNetwork, readPrior } from '../training/bundle-read.ts';
import { settleWith } from '../training/settle-node.ts';

const { values } = parseArgs({ options: { bundle: { type: 'string', default: 'public/models/faces' }, count: { type: 'string', default: '200' } } });
const dir = values.bundle!;
const count = Number(values.count);
const manifest = readManifest(dir);
const prior = readPrior(dir, manifest);
await selectBackend('wasm', 1);
const decoder = await readNetwork(dir, manifest, 'decoder');
const encoder = manifest.encoder ? await readNetwork(dir, manifest, 'encoder') : null;
const random = mulberry32(1);
const d = manifest.latentDim;

function timeEach(n: number, work: () => void): number {
  work();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) work();
  return (performance.now() - t0) / n;
}

let z = samplePrior(prior, 1, 1, random);
const sampleMs = timeEach(count, () => (z = samplePrior(prior, 1, 1, random)));
const decodeMs = timeEach(Math.max(10, Math.round(count / 10)), () => tf.tidy(() => (decoder.predict(tf.tensor2d(z, [1, d])) as tf.Tensor).dataSync()));
const trips = prior.settle ?? 0;
let settleMs = 0;
if (encoder && trips) {
  await settleWith(encoder, decoder, z, trips, d, prior.settleStep);
  const n = Math.max(3, Math.round(count / 40));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await settleWith(encoder, decoder, z, trips, d, prior.settleStep);
  settleMs = (performance.now() - t0) / n;
}
const result = {
  date: new Date().toISOString(),
  bundle: dir,
  version: manifest.version,
  prior: describePrior(prior),
  sampleMs: Math.round(sampleMs * 1000) / 1000,
  decodeMs: Math.round(decodeMs * 100) / 100,
  sampleOverDecode: Math.round((sampleMs / decodeMs) * 1000) / 1000,
  settleTrips: trips,
  settleMs: Math.round(settleMs * 10) / 10,
  setting: 'Node, wasm backend, 1 thread, one code at a time',
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(join('bench/results', 'prior-sample.json'), JSON.stringify(result, null, 1) + '\n');
console.log(`${result.prior}: ${result.sampleMs} ms to draw one code; ${result.decodeMs} ms to decode it (${(100 * result.sampleOverDecode).toFixed(1)}% of a decode).`);
if (trips) console.log(`Settling it by ${trips} round trips: ${result.settleMs} ms (${(settleMs / decodeMs).toFixed(1)} decodes), after the drawn face is on screen.`);
