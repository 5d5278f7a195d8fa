/**
 * npm run edits:by-look -- --bundle DIR --data-dir DIR [options]
 *
 * Splits a faces bundle's attribute-edit check by what the avatars wear: how
 * often subtracting the Eyeglasses vector removes each frame style and colour,
 * the Mustache vector each moustache colour and skin tone, and how often adding
 * No_Beard shaves each beard. One success rate per attribute (the manifest's
 * table) hides an edit that works on the common look and never on a rarer one;
 * this is the measurement behind the avatar set's "dark" look (AVATARS.md).
 * It needs the avatar set the bundle was trained on, written with the same
 * --seed and look flags, since the traits come from the generator.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { editShareText } from '../lib/attributes.ts';
import { parseEditTable } from '../lib/edit-table.ts';
import { parseAttributes, parseManifest, type AttributesFile } from '../lib/bundle.ts';
import { faceState, steerAttributes, steerOffset } from '../lib/steer.ts';
import { selectBackend } from './backend.ts';
import { loadCelebA } from './data/celeba.ts';
import {
  avatarLook, drawTraits, encodeJpeg, FACIAL_HAIR_COLOURS, FRAME_COLOURS, imageName, rasterise,
  type AvatarLook, type AvatarTraits, type FacialHairColour, type FrameColours,
} from './data/avatars.ts';
import type { ImageDataset } from './data/types.ts';
import { loadLayersModelFromDir } from './export.ts';
import { classify, decodeFloat, trainAttributeClassifier } from './faces.ts';
import { cachedJudge, judgeImages, type Judge } from './judge.ts';
import { encodeMeans } from './report.ts';

/** One edit, split by one trait. */
export interface LookBreakdown {
  attribute: string;
  /** +1: faces without the attribute get +scale x vector; -1: faces with it get -scale x vector. */
  sign: 1 | -1;
  /** The trait the faces are grouped by (an AvatarTraits key). */
  by: keyof AvatarTraits;
  /** Per value of the trait: faces edited and how many the judge then reads as intended. */
  groups: { value: string; count: number; success: number }[];
  count: number;
  success: number;
}

/** The edits and traits this tool reports: the ones a trait's colour or style can make fail. */
export const LOOK_CHECKS: readonly { attribute: string; sign: 1 | -1; by: (keyof AvatarTraits)[] }[] = [
  { attribute: 'Eyeglasses', sign: -1, by: ['glasses', 'glassesColour'] },
  { attribute: 'Mustache', sign: -1, by: ['facialHairStyle', 'facialHairHex', 'skinHex'] },
  { attribute: 'Mustache', sign: 1, by: ['skinHex'] },
  { attribute: 'No_Beard', sign: 1, by: ['facialHairStyle', 'facialHairHex', 'skinHex'] },
  // The edits the calibrated directions still miss: split by where the face starts from.
  { attribute: 'Bald', sign: 1, by: ['head', 'hairColour'] },
  { attribute: 'Blond_Hair', sign: 1, by: ['head', 'hairColour'] },
  { attribute: 'Brown_Hair', sign: 1, by: ['head', 'hairColour'] },
  { attribute: 'Narrow_Eyes', sign: 1, by: ['eyes', 'eyebrows', 'eyeglasses', 'smiling'] },
  { attribute: 'Wavy_Hair', sign: -1, by: ['head', 'hairColour', 'top'] },
  { attribute: 'Wavy_Hair', sign: 1, by: ['hairTexture', 'top', 'hairColour'] },
];

/** The latent move of an edit from the face z: sign +1 adds the attribute, -1 removes it (`vector` is the file's). */
export type EditOffset = (attribute: string, sign: 1 | -1, z: Float32Array, vector: readonly number[]) => ArrayLike<number>;

/**
 * Edits up to `perEdit` faces of the test split per check (in split order) at
 * `scale` along the file's vectors, or by the move `scale` gives (the shipped
 * steering, lib/steer.ts), judges them with `judge` and groups the successes
 * by trait.
 * `traits[i]` are the traits of test image i.
 */
export function editsByLook(
  encoder: tf.LayersModel, decoder: tf.LayersModel, judge: tf.LayersModel | Judge, data: ImageDataset, file: AttributesFile,
  traits: readonly AvatarTraits[], scale: number | EditOffset, perEdit = 600,
): LookBreakdown[] {
  const offsetOf: EditOffset = typeof scale === 'number' ? (a, sign, _z, vector) => vector.map((v) => sign * scale * v) : scale;
  const all = data.attributeNames!;
  // A Judge (training/judge.ts) reads its own attribute list; the set's classifier reads the file's.
  const judged = 'attributes' in judge ? judge.attributes : file.attributes.map((a) => a.name);
  const judgeModel = 'attributes' in judge ? judge.model : judge;
  const d = file.latentDim;
  const n = Math.min(data.test.count, traits.length);
  const z = encodeMeans(encoder, data.test, Int32Array.from({ length: n }, (_, i) => i));
  const labels = data.test.attributes!;
  const out: LookBreakdown[] = [];
  for (const check of LOOK_CHECKS) {
    const vector = file.attributes.find((a) => a.name === check.attribute)?.vector;
    const col = all.indexOf(check.attribute);
    const j = judged.indexOf(check.attribute);
    if (!vector || col < 0 || j < 0) continue;
    const chosen: number[] = [];
    for (let i = 0; i < n && chosen.length < perEdit; i++) if ((labels[i * all.length + col]! > 0) === (check.sign < 0)) chosen.push(i);
    if (chosen.length === 0) continue;
    const edited = new Float32Array(chosen.length * d);
    chosen.forEach((i, k) => {
      const face = z.subarray(i * d, (i + 1) * d);
      const off = offsetOf(check.attribute, check.sign, face, vector);
      for (let q = 0; q < d; q++) edited[k * d + q] = face[q]! + off[q]!;
    });
    const images = decodeFloat(decoder, edited, d);
    const per = data.image.height * data.image.width * data.image.channels;
    const read = (idx: Int32Array) => images.subarray(idx[0]! * per, (idx[idx.length - 1]! + 1) * per);
    const p = 'attributes' in judge ? judgeImages(judge, read, chosen.length).probs : classify(judgeModel, read, chosen.length, data.image);
    const ok = chosen.map((_, k) => (p[k * judged.length + j]! > 0.5) === (check.sign > 0));
    for (const by of check.by) {
      const groups = new Map<string, { count: number; success: number }>();
      chosen.forEach((i, k) => {
        const value = String(traits[i]![by]);
        const g = groups.get(value) ?? { count: 0, success: 0 };
        g.count++;
        if (ok[k]) g.success++;
        groups.set(value, g);
      });
      out.push({
        attribute: check.attribute, sign: check.sign, by,
        groups: [...groups].map(([value, g]) => ({ value, ...g })).sort((a, b) => (a.value < b.value ? -1 : 1)),
        count: chosen.length,
        success: ok.filter(Boolean).length,
      });
    }
  }
  return out;
}

/**
 * The traits of an avatar set's test images, in the order loadCelebA reads
 * them, after checking that the set was written with this seed and look: the
 * first test image is drawn again and must match its JPEG byte for byte.
 */
export async function testTraits(dataDir: string, seed: number, look: Partial<AvatarLook>): Promise<AvatarTraits[]> {
  return splitTraits(dataDir, seed, look, '2');
}

/** The traits of an avatar set's split ('0' training, '2' test), after checking that the set is what `seed` and `look` draw. */
export async function splitTraits(dataDir: string, seed: number, look: Partial<AvatarLook>, partition: '0' | '2'): Promise<AvatarTraits[]> {
  const full = avatarLook(look);
  const lines = readFileSync(join(dataDir, 'list_eval_partition.txt'), 'utf8').split('\n').filter((l) => l.trim());
  const indices = lines
    .map((l) => l.trim().split(/\s+/))
    .filter(([, p]) => p === partition)
    .map(([name]) => {
      const m = /^(\d{6})\.jpg$/.exec(name ?? '');
      if (!m) throw new Error(`${dataDir}: image ${JSON.stringify(name)} is not named like an avatar (NNNNNN.jpg); this tool reads avatar sets only`);
      return Number(m[1]) - 1;
    });
  if (indices.length === 0) throw new Error(`${dataDir}: list_eval_partition.txt has no images in partition ${partition}`);
  const first = indices[0]!;
  const drawn = await encodeJpeg(rasterise(drawTraits(seed, first, full)));
  const onDisk = readFileSync(join(dataDir, 'img_align_celeba', imageName(first)));
  if (!drawn.equals(onDisk)) {
    throw new Error(`${dataDir}/img_align_celeba/${imageName(first)} is not what --seed ${seed} --facial-hair-colour ${full.facialHairColour} --frame-colours ${full.frameColours} draws; pass the flags the set was written with (npm run data:avatars)`);
  }
  return indices.map((i) => drawTraits(seed, i, full));
}

function formatBreakdown(b: LookBreakdown): string {
  const pct = (s: number, c: number) => editShareText(s / c, c, 1);
  const head = `${b.sign > 0 ? 'add' : 'remove'} ${b.attribute}, by ${b.by}: ${pct(b.success, b.count)} of ${b.count}`;
  return [head, ...b.groups.map((g) => `  ${g.value.padEnd(16)} ${pct(g.success, g.count).padStart(6)}  (${g.count})`)].join('\n');
}

const HELP = `Split a faces bundle's attribute edits by what the avatars wear.

Usage: npm run edits:by-look -- --bundle DIR --data-dir DIR [options]
  --bundle DIR              a faces bundle with attributes.json (e.g. public/models/faces)
  --data-dir DIR            the avatar set it was trained on
  --seed S                  the seed the set was written with (default 1)
  --facial-hair-colour C    the set's look: ${FACIAL_HAIR_COLOURS.join(', ')} (default dark)
  --frame-colours F         ${FRAME_COLOURS.join(', ')} (default dark)
  --scale S                 edit scale (default: the bundle's, from its manifest)
  --per-edit N              faces per edit (default 600)
  --cache-dir DIR           image cache (default data/cache)
  --judge-data DIR          judge with the independent judge trained on this set (as npm run attributes does)
                            instead of a classifier trained on the model's own set
  --threads N               WebAssembly threads (default 2)`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      bundle: { type: 'string' }, 'data-dir': { type: 'string' }, seed: { type: 'string', default: '1' },
      'facial-hair-colour': { type: 'string', default: 'dark' }, 'frame-colours': { type: 'string', default: 'dark' },
      scale: { type: 'string' }, 'per-edit': { type: 'string', default: '600' }, 'cache-dir': { type: 'string', default: 'data/cache' },
      threads: { type: 'string', default: '2' }, 'judge-data': { type: 'string' }, help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (a.help) return void console.log(HELP);
  if (!a.bundle || !a['data-dir']) throw new Error('--bundle and --data-dir are required (see --help)');
  if (!existsSync(join(a.bundle, 'manifest.json'))) throw new Error(`${a.bundle}: no manifest.json there; --bundle takes a bundle folder such as public/models/faces`);
  if (!existsSync(join(a['data-dir'], 'list_eval_partition.txt'))) throw new Error(`${a['data-dir']}: no list_eval_partition.txt there; --data-dir takes an avatar set written by npm run data:avatars`);
  const manifest = parseManifest(JSON.parse(readFileSync(join(a.bundle, 'manifest.json'), 'utf8')));
  if (!manifest.attributes || !manifest.encoder) throw new Error(`${a.bundle} has no attribute vectors or no encoder: not a faces bundle`);
  const file = parseAttributes(JSON.parse(readFileSync(join(a.bundle, manifest.attributes), 'utf8')), manifest);
  const calibrated = file.attributes.every((v) => v.scale !== undefined);
  const scale = a.scale !== undefined ? Number(a.scale) : calibrated ? 1 : parseEditTable(manifest.metrics.attributeEdits)?.scale;
  if (!(typeof scale === 'number' && scale > 0)) throw new Error(`--scale must be a positive number${a.scale === undefined ? ' (the manifest records none)' : `, got ${JSON.stringify(a.scale)}`}`);
  // Calibrated files: slider ±1 (times --scale when given) as the studio steers it, from the face's
  // state and the face itself (state transports, Gaussian transports, networks); older files: scale × vector.
  const steer = steerAttributes(file);
  const scaleFor: number | EditOffset = calibrated
    ? (name, sign, z) => steerOffset(steer, [{ name, weight: sign * scale }], file.latentDim, undefined, file.states ? faceState(steer, file.states, z) : null, z)
    : scale;
  const perEdit = Number(a['per-edit']);
  if (!Number.isInteger(perEdit) || perEdit < 1) throw new Error(`--per-edit must be a whole number >= 1, got ${JSON.stringify(a['per-edit'])}`);
  const look = { facialHairColour: a['facial-hair-colour'] as FacialHairColour, frameColours: a['frame-colours'] as FrameColours };
  const traits = await testTraits(a['data-dir'], Number(a.seed), look);

  await selectBackend('wasm', Number(a.threads));
  const data = await loadCelebA(a['data-dir'], { size: [manifest.image.height, manifest.image.width], cacheDir: a['cache-dir']!, crop: manifest.dataset.crop ?? 0 });
  if (data.test.count !== traits.length) throw new Error(`${a['data-dir']}: ${data.test.count} test images were read but the partition file lists ${traits.length}`);
  const encoder = await loadLayersModelFromDir(join(a.bundle, manifest.encoder.replace(/\/?model\.json$/, '')));
  const decoder = await loadLayersModelFromDir(join(a.bundle, manifest.decoder.replace(/\/?model\.json$/, '')));
  const judgeDir = a['judge-data'];
  const judge = judgeDir
    ? await cachedJudge(join(judgeDir, `.judge-${manifest.image.height}x${manifest.image.width}-crop${manifest.dataset.crop ?? 0}`), () => loadCelebA(judgeDir, { size: [manifest.image.height, manifest.image.width], cacheDir: a['cache-dir']!, crop: manifest.dataset.crop ?? 0 }))
    : trainAttributeClassifier(data, file.attributes.map((v) => v.name)).model;
  const by = judgeDir ? `the independent judge (${judgeDir})` : "a classifier trained on the set's real training images";
  console.log(`\nEdits of ${a.bundle} (model ${manifest.version}) at ${calibrated ? `slider ±${scale} (each attribute's shipped add and remove, from the face)` : `scale ${scale}`}, judged by ${by}:\n`);
  for (const b of editsByLook(encoder, decoder, judge, data, file, traits, scaleFor, perEdit)) console.log(formatBreakdown(b) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: Error) => {
    process.stderr.write(`edits:by-look: ${err.message}\n`);
    process.exit(2);
  });
}
