/**
 * npm run attributes -- --bundle DIR --judge-data DIR [--data-dir DIR] [options]
 *
 * Finds, calibrates and measures a face bundle's attribute directions
 * (training/attributes-build.ts) and rewrites its attributes.json, edit sheet
 * and the edit table in its manifest.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTRIBUTE_DEFAULTS, runAttributeStep } from './attributes-build.ts';
import { selectBackend } from './backend.ts';
import { readManifest, readNetwork } from './bundle-read.ts';
import { DIRECTION_METHODS, type DirectionMethod } from './directions.ts';
import { loadFaces } from './prior-build.ts';
import { COUNTERFACTUALS, pairMoves } from './counterfactual-pairs.ts';

const HELP = `Find, calibrate and measure a face bundle's attribute directions.

Usage: npm run attributes -- --bundle DIR --judge-data DIR [options]
  --bundle DIR              a face bundle with an encoder (e.g. public/models/faces)
  --judge-data DIR          a separate face set for the independent judge (npm run data:avatars with another --seed)
  --data-dir DIR            the model's own face set (default: the manifest's dataset.source)
  --methods LIST            candidate directions, comma-separated (default ${DIRECTION_METHODS.join(',')})
  --calibration-faces N     training faces the scales are calibrated on (default ${ATTRIBUTE_DEFAULTS.calibrationFaces})
  --per-side N              faces per side when calibrating (default ${ATTRIBUTE_DEFAULTS.calibrationPerSide})
  --test-per-side N         held-out faces per side in the table (default ${ATTRIBUTE_DEFAULTS.testPerSide})
  --only LIST               just these attributes (for a quick look; the file then holds only them)
  --counterfactuals LIST    avatar sets only: for these attributes also fit a network to counterfactual pairs
                            (the same avatar drawn with the attribute) and ship it where it adds best; any of
                            ${Object.keys(COUNTERFACTUALS).join(', ')}
  --pairs N                 counterfactual pairs per attribute, from the training faces after the calibration ones (default 12000)
  --seed S                  the seed the avatar set was written with (npm run data:avatars --seed; default 1)
  --threads N               WebAssembly threads (default 2)
  --cache-dir DIR           preprocessed images and encoded codes (default data/cache)
  --help                    this text`;

function fail(message: string): never {
  process.stderr.write(`attributes: ${message}\nRun npm run attributes -- --help for usage.\n`);
  process.exit(2);
}

function whole(v: string | undefined, flag: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) fail(`${flag} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function parse(): { [k: string]: string | boolean | undefined } {
  try {
    return parseArgs({
      options: {
        bundle: { type: 'string' }, 'judge-data': { type: 'string' }, 'data-dir': { type: 'string' }, methods: { type: 'string' },
        'calibration-faces': { type: 'string' }, 'per-side': { type: 'string' }, 'test-per-side': { type: 'string' }, only: { type: 'string' },
        counterfactuals: { type: 'string' }, pairs: { type: 'string' }, seed: { type: 'string' },
        threads: { type: 'string', default: '2' }, 'cache-dir': { type: 'string', default: 'data/cache' }, help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
}

async function main(): Promise<void> {
  const v = parse();
  if (v.help) return void console.log(HELP);
  const dir = v.bundle as string | undefined;
  const judgeDir = v['judge-data'] as string | undefined;
  if (!dir || !judgeDir) return fail('--bundle and --judge-data are required');
  const manifest = readManifest(dir);
  if (manifest.image.channels !== 3 || !manifest.encoder) fail(`${dir} is not a face bundle with an encoder`);
  if (!existsSync(join(judgeDir, 'list_attr_celeba.txt'))) fail(`${judgeDir}: no list_attr_celeba.txt there; --judge-data takes a face set in CelebA layout`);
  const dataDir = (v['data-dir'] as string | undefined) ?? manifest.dataset.source;
  if (!dataDir || !existsSync(join(dataDir, 'list_attr_celeba.txt'))) fail(`${dataDir ?? '(none)'}: no list_attr_celeba.txt there; --data-dir takes the model's face set (CelebA layout)`);
  const methods = ((v.methods as string | undefined) ?? DIRECTION_METHODS.join(',')).split(',').map((s) => s.trim()) as DirectionMethod[];
  for (const m of methods) if (!DIRECTION_METHODS.includes(m)) fail(`--methods takes ${DIRECTION_METHODS.join(', ')}; got ${JSON.stringify(m)}`);
  const cacheDir = v['cache-dir'] as string;
  await selectBackend('wasm', whole(v.threads as string | undefined, '--threads', 2, 1));
  const counterfactuals = ((v.counterfactuals as string | undefined) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of counterfactuals) if (!COUNTERFACTUALS[n]) fail(`--counterfactuals: no counterfactual for ${JSON.stringify(n)}; one of ${Object.keys(COUNTERFACTUALS).join(', ')}`);
  const maxPairs = whole(v.pairs as string | undefined, '--pairs', 12000, 10);
  const seed = whole(v.seed as string | undefined, '--seed', 1, 0);
  const calibrationFaces = whole(v['calibration-faces'] as string | undefined, '--calibration-faces', ATTRIBUTE_DEFAULTS.calibrationFaces, 100);
  const data = await loadFaces(dataDir, manifest, cacheDir);
  const [encoder, decoder] = [await readNetwork(dir, manifest, 'encoder'), await readNetwork(dir, manifest, 'decoder')];
  const source = { encoder, data, dataDir, seed, size: [manifest.image.height, manifest.image.width] as [number, number], crop: manifest.dataset.crop ?? 0, cacheDir };
  const pairs = async (name: string) => (counterfactuals.includes(name) ? pairMoves(source, name, maxPairs, calibrationFaces) : null);
  await runAttributeStep({
    dir, manifest, data, encoder, decoder, judgeDir, cacheDir, methods,
    loadJudgeData: () => loadFaces(judgeDir, manifest, cacheDir),
    calibrationFaces, pairs,
    calibrationPerSide: whole(v['per-side'] as string | undefined, '--per-side', ATTRIBUTE_DEFAULTS.calibrationPerSide, 10),
    testPerSide: whole(v['test-per-side'] as string | undefined, '--test-per-side', ATTRIBUTE_DEFAULTS.testPerSide, 10),
    ...(v.only ? { only: (v.only as string).split(',') } : {}),
    command: `npm run attributes -- ${process.argv.slice(2).join(' ')}`,
  });
  console.log(`Wrote ${join(dir, 'attributes.json')}, attribute-edits.png and the edit table in the manifest.`);
}

main().catch((err: Error) => fail(err.message));
