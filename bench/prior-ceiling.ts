/**
 * How clear can sampled faces get without changing the decoder? (issue 13)
 *
 *   npx tsx bench/prior-ceiling.ts [--bundle public/models/faces] [--data-dir data/avatars-v3]
 *                                  [--judge-data data/avatars-judge] [--count 1200] [--trips 1,4,12]
 *
 * Measures, with the independent judge and against the same held-out faces
 * as `npm run prior`: the shipped prior at T = 1; the same samples pushed onto
 * the model's manifold by n encode–decode round trips z ← E(D(z)) (Markov-chain
 * sampling of an autoencoder); and the reconstructions of held-out faces. A
 * round trip costs a decode plus an encode per sample, so it cannot run for
 * "New face" in the studio; it shows how far a latent sampler could go before
 * the decoder's drawing of in-between codes is the limit. Prints a table and
 * writes bench/results/prior-ceiling.json. Needs the face sets (npm run
 * data:avatars); not part of npm run bench.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectBackend } from '../training/backend.ts';
import { readManifest, readNetwork, readPrior } from '../training/bundle-read.ts';
import { cachedJudge } from '../training/judge.ts';
import { loadFaces, trainingCodes } from '../training/prior-build.ts';
import { decodedReader, judgeReference, measureRow, medianNearestDistance, samplePriorSeeded, splitReader } from '../training/prior-measure.ts';
import { encodeMeans } from '../training/report.ts';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'public/models/faces' },
    'data-dir': { type: 'string', default: 'data/avatars-v3' },
    'judge-data': { type: 'string', default: 'data/avatars-judge' },
    count: { type: 'string', default: '1200' },
    trips: { type: 'string', default: '1,4,12' },
  },
});
for (const dir of [values['data-dir']!, values['judge-data']!]) {
  if (!existsSync(join(dir, 'list_attr_celeba.txt'))) {
    console.error(`prior-ceiling: ${dir} is not a face set in CelebA's layout; make one with npm run data:avatars (see docs/training.md).`);
    process.exit(2);
  }
}
const count = Number(values.count);
const trips = values.trips!.split(',').map(Number).sort((a, b) => a - b);
await selectBackend('wasm', 2);
const dir = values.bundle!;
const manifest = readManifest(dir);
const d = manifest.latentDim;
const encoder = await readNetwork(dir, manifest, 'encoder');
const decoder = await readNetwork(dir, manifest, 'decoder');
const data = await loadFaces(values['data-dir']!, manifest, 'data/cache');
const train = trainingCodes(encoder, data, manifest, 'data/cache');
const judgeDir = values['judge-data']!;
const judge = await cachedJudge(join(judgeDir, `.judge-${manifest.image.height}x${manifest.image.width}-crop${manifest.dataset.crop ?? 0}`), () => loadFaces(judgeDir, manifest, 'data/cache'));
const reference = judgeReference(judge, splitReader(data.test, count), count);

/** z ← E(D(z)): the encoder's mean of the decoded image, in blocks. */
function roundTrip(z: Float32Array): Float32Array {
  const out = new Float32Array(z.length);
  const n = z.length / d;
  for (let s = 0; s < n; s += 200) {
    tf.tidy(() => {
      const m = Math.min(200, n - s);
      const x = decoder.predict(tf.tensor2d(z.subarray(s * d, (s + m) * d), [m, d])) as tf.Tensor;
      out.set((encoder.predict(x) as tf.Tensor[])[0]!.dataSync() as Float32Array, s * d);
    });
  }
  return out;
}

const rows: { label: string; fid: number; confident: number; nearestTrainingCode: number }[] = [];
function row(label: string, z: Float32Array): void {
  const r = measureRow(judge, reference, decodedReader(decoder, z, d), count, { label, kind: 'prior' });
  const nearest = Math.round(medianNearestDistance(z.slice(0, 300 * d), train, d) * 100) / 100;
  rows.push({ label, fid: r.fid, confident: r.confident, nearestTrainingCode: nearest });
  console.log(`${label.padEnd(52)} FID ${r.fid.toFixed(1).padStart(6)}   confident ${(100 * r.confident).toFixed(1).padStart(5)}%   nearest training code ${nearest}`);
}

row('reconstructions of other held-out faces', encodeMeans(encoder, data.test, Int32Array.from({ length: count }, (_, i) => i)));
let z = samplePriorSeeded(readPrior(dir, manifest), count, 1, 7);
row('shipped prior, T = 1', z);
for (let n = 1; n <= trips.at(-1)!; n++) {
  z = roundTrip(z);
  if (trips.includes(n)) row(`shipped prior, T = 1, then ${n} round trip${n > 1 ? 's' : ''} z ← E(D(z))`, z);
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'prior-ceiling.json'), JSON.stringify({ bundle: dir, modelVersion: manifest.version, count, rows }, null, 1) + '\n');
