/**
 * npm run edits:counterfactual -- --bundle DIR --data-dir DIR --judge-data DIR [options]
 *
 * Why an edit that misses, misses. For held-out avatars without an attribute
 * the generator draws the very same avatar with it (a counterfactual pair);
 * the codes of the pair give each face's exact move, E(x') − E(x). On the
 * same faces and with the same judge it reports:
 *  - the shipped add (slider +1, lib/steer.ts as the studio and /mix run it);
 *  - each face's exact move: what any per-face rule could reach with this
 *    encoder and decoder (the ceiling);
 *  - the best single direction there is: the mean exact move of training
 *    pairs, at 1, 1.5 and 2 times its length.
 * Exact moves that work while their mean fails say the direction is the
 * problem (one line cannot do it); exact moves that fail say the decoder is.
 * Only avatar sets can be asked for counterfactuals; the pairs are drawn
 * into --out (a CelebA-layout folder) and read back like any image.
 */
import type * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAttributes, parseManifest } from '../lib/bundle.ts';
import { faceState, steerAttributes, steerOffset } from '../lib/steer.ts';
import { selectBackend } from './backend.ts';
import { loadCelebA } from './data/celeba.ts';
import { drawTraits } from './data/avatars.ts';
import { COUNTERFACTUALS, drawPairs, pairsKey, plan } from './counterfactual-pairs.ts';
import type { LabelledCodes } from './directions.ts';
import { editFaces, measureEdit, type EditOutcome } from './edit-check.ts';
import { testTraits } from './edits-by-look.ts';
import { loadLayersModelFromDir } from './export.ts';
import { cachedJudge } from './judge.ts';
import { labelledSheet } from './labelled-sheet.ts';
import { decodeToBytes, encodeMeans } from './report.ts';

const HELP = `Split a faces bundle's failing adds into direction and decoder with counterfactual avatars.

Usage: npm run edits:counterfactual -- --bundle DIR --data-dir DIR --judge-data DIR [options]
  --attributes A,B     attributes to check (default Narrow_Eyes,Wavy_Hair; any of ${Object.keys(COUNTERFACTUALS).join(', ')})
  --per-edit N         held-out faces per attribute (default 300)
  --pairs N            training pairs for the mean move (default 600)
  --seed S             the seed the avatar set was written with (default 1)
  --out DIR            where the counterfactual images go (default data/cache/counterfactuals)
  --cache-dir DIR      image cache (default data/cache)
  --sheet DIR          also write DIR/<attribute>.png: held-out faces, their counterfactuals, the shipped add and the best single direction, labelled`;

/** Faces per column of the --sheet figure. */
const SHEET_FACES = 8;
const SHEET_ZOOM = 2;

async function writeSheet(file: string, decoder: tf.LayersModel, d: number, panels: { caption: string; z: Float32Array }[]): Promise<void> {
  const decoded = panels.map((p) => ({ caption: p.caption, ...decodeToBytes(decoder, p.z, d), count: p.z.length / d }));
  const { h, w, c } = decoded[0]!;
  mkdirSync(dirname(file), { recursive: true });
  const images = decoded.map((p) => ({ caption: p.caption, images: enlarge(p.bytes, p.count, h, w, c, SHEET_ZOOM), count: p.count }));
  writeFileSync(file, await labelledSheet(images, h * SHEET_ZOOM, w * SHEET_ZOOM, c, 1));
}

/** Each image `zoom` times larger, pixels repeated (the decoder's own pixels, no smoothing). */
function enlarge(bytes: Uint8Array, n: number, h: number, w: number, c: number, zoom: number): Uint8Array {
  const out = new Uint8Array(n * h * w * c * zoom * zoom);
  const W = w * zoom;
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < W; x++) {
        const from = ((k * h + Math.floor(y / zoom)) * w + Math.floor(x / zoom)) * c;
        out.set(bytes.subarray(from, from + c), ((k * h * zoom + y) * W + x) * c);
      }
    }
  }
  return out;
}

function pct(o: EditOutcome): string {
  return `${((100 * o.success) / Math.max(1, o.count)).toFixed(1)}% added, others ${((100 * o.othersKept) / Math.max(1, o.othersTotal)).toFixed(1)}%`;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      bundle: { type: 'string' }, 'data-dir': { type: 'string' }, 'judge-data': { type: 'string' }, attributes: { type: 'string', default: 'Narrow_Eyes,Wavy_Hair' },
      'per-edit': { type: 'string', default: '300' }, pairs: { type: 'string', default: '600' }, seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'data/cache/counterfactuals' }, 'cache-dir': { type: 'string', default: 'data/cache' }, help: { type: 'boolean', default: false },
      sheet: { type: 'string' },
    },
    strict: true,
  });
  if (a.help) return void console.log(HELP);
  if (!a.bundle || !a['data-dir'] || !a['judge-data']) throw new Error('--bundle, --data-dir and --judge-data are required (see --help)');
  const names = a.attributes!.split(',').map((s) => s.trim());
  for (const n of names) if (!COUNTERFACTUALS[n]) throw new Error(`--attributes: no counterfactual for ${JSON.stringify(n)}; one of ${Object.keys(COUNTERFACTUALS).join(', ')}`);
  const perEdit = Number(a['per-edit']);
  const pairsPer = Number(a.pairs);
  if (!(Number.isInteger(perEdit) && perEdit > 0 && Number.isInteger(pairsPer) && pairsPer > 1)) throw new Error('--per-edit must be a whole number >= 1 and --pairs >= 2');
  const manifest = parseManifest(JSON.parse(readFileSync(join(a.bundle, 'manifest.json'), 'utf8')));
  if (!manifest.attributes || !manifest.encoder) throw new Error(`${a.bundle} has no attribute vectors or no encoder: not a faces bundle`);
  const file = parseAttributes(JSON.parse(readFileSync(join(a.bundle, manifest.attributes), 'utf8')), manifest);
  const seed = Number(a.seed);
  const test = await testTraits(a['data-dir'], seed, {});
  const partitions = readFileSync(join(a['data-dir'], 'list_eval_partition.txt'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
  const train = partitions.filter((p) => p[1] === '0').slice(0, 20 * pairsPer).map((p) => drawTraits(seed, Number(p[0]!.slice(0, 6)) - 1));
  const pairs = names.flatMap((n) => [...plan(n, 'train', train, pairsPer), ...plan(n, 'test', test, perEdit)]);
  const out = join(a.out!, `${seed}-${names.join('-')}-${perEdit}-${pairsPer}-${pairsKey(pairs)}`);
  if (!existsSync(join(out, 'list_eval_partition.txt'))) {
    console.log(`Drawing ${pairs.length} counterfactual avatars into ${out}…`);
    await drawPairs(out, pairs);
  }
  await selectBackend('wasm', 2);
  const size: [number, number] = [manifest.image.height, manifest.image.width];
  const crop = manifest.dataset.crop ?? 0;
  const data = await loadCelebA(a['data-dir'], { size, cacheDir: a['cache-dir']!, crop });
  const drawn = await loadCelebA(out, { size, cacheDir: a['cache-dir']!, crop });
  const encoder = await loadLayersModelFromDir(join(a.bundle, manifest.encoder.replace(/\/?model\.json$/, '')));
  const decoder = await loadLayersModelFromDir(join(a.bundle, manifest.decoder.replace(/\/?model\.json$/, '')));
  const judgeDir = a['judge-data'];
  const judge = await cachedJudge(join(judgeDir, `.judge-${size[0]}x${size[1]}-crop${crop}`), () => loadCelebA(judgeDir, { size, cacheDir: a['cache-dir']!, crop }));
  const d = manifest.latentDim;
  const after = encodeMeans(encoder, drawn.test, Int32Array.from({ length: pairs.length }, (_, k) => k));
  const n = Math.max(...pairs.filter((p) => p.split === 'test').map((p) => p.position)) + 1;
  const codes: LabelledCodes = { z: encodeMeans(encoder, data.test, Int32Array.from({ length: n }, (_, k) => k)), d, n, labels: data.test.attributes!.slice(0, n * data.attributeNames!.length), names: data.attributeNames! };
  const faces = editFaces(decoder, judge, codes);
  const steer = steerAttributes(file);
  console.log(`\nAdds of ${a.bundle} (model ${manifest.version}) on held-out avatars, against each face's exact move to the same avatar with the attribute, judged by ${judgeDir}:\n`);
  for (const name of names) {
    const mine = pairs.map((p, k) => ({ ...p, k })).filter((p) => p.attribute === name);
    const trainPairs = mine.filter((p) => p.split === 'train');
    const before = encodeMeans(encoder, data.train, Int32Array.from(trainPairs.map((p) => p.position)));
    const mean = new Float64Array(d);
    trainPairs.forEach((p, j) => { for (let q = 0; q < d; q++) mean[q]! += (after[p.k * d + q]! - before[j * d + q]!) / trainPairs.length; });
    const length = Math.hypot(...mean);
    const held = mine.filter((p) => p.split === 'test');
    const exact = new Map(held.map((p) => [p.position, Float64Array.from({ length: d }, (_, q) => after[p.k * d + q]! - codes.z[p.position * d + q]!)]));
    const chosen = held.map((p) => p.position);
    const edit = (offset: (i: number) => ArrayLike<number>) => measureEdit(decoder, judge, faces, name, 1, chosen, offset);
    const zOf = (i: number) => codes.z.subarray(i * d, (i + 1) * d);
    const lengths = [...exact.values()].map((v) => Math.hypot(...v)).sort((x, y) => x - y);
    console.log(`add ${name} (${chosen.length} faces; exact moves' median length ${lengths[lengths.length >> 1]!.toFixed(2)}, their mean's ${length.toFixed(2)}):`);
    const line = (label: string, o: EditOutcome) => console.log(`  ${label.padEnd(28)}${pct(o)}`);
    line('shipped (slider +1)', edit((i) => steerOffset(steer, [{ name, weight: 1 }], d, undefined, file.states ? faceState(steer, file.states, zOf(i)) : null, zOf(i))));
    line("each face's exact move", edit((i) => exact.get(i)!));
    for (const m of [1, 1.5, 2]) line(`mean exact move x${m.toFixed(1)}`, edit(() => mean.map((v) => v * m)));
    if (a.sheet) {
      const shown = held.slice(0, SHEET_FACES);
      const panel = (caption: string, z: (p: (typeof shown)[number]) => ArrayLike<number>) => ({ caption, z: Float32Array.from(shown.flatMap((p) => Array.from(z(p)))) });
      const step = (i: number) => steerOffset(steer, [{ name, weight: 1 }], d, undefined, file.states ? faceState(steer, file.states, zOf(i)) : null, zOf(i));
      const sheetFile = join(a.sheet, `${name}.png`);
      await writeSheet(sheetFile, decoder, d, [
        panel('held-out face', (p) => zOf(p.position)),
        panel('drawn with it\n(its exact move)', (p) => after.subarray(p.k * d, (p.k + 1) * d)),
        panel('shipped add\n(slider +1)', (p) => { const o = step(p.position); return zOf(p.position).map((v, q) => v + o[q]!); }),
        panel('one direction\n(mean move ×2)', (p) => zOf(p.position).map((v, q) => v + 2 * mean[q]!)),
      ]);
      console.log(`  wrote ${sheetFile}`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: Error) => {
    process.stderr.write(`edits:counterfactual: ${err.message}\n`);
    process.exit(2);
  });
}

export { COUNTERFACTUALS, plan, type Pair } from './counterfactual-pairs.ts';
