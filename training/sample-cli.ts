/**
 * npm run sample -- --bundle DIR --count N --temperature T --seed S --out FILE [--sheet FILE.png]
 *
 * Draws N codes from a bundle's learned prior (the same sampler the studio
 * runs, lib/prior.ts) and writes them as raw little-endian float32, N × latentDim;
 * with --settle N each code is first moved by N encode–decode round trips
 * (lib/settle.ts, corrected and relaxed by the prior's step, as the studio does); with --sheet also a PNG of their
 * decoded images.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { BundleManifest } from '../lib/bundle.ts';
import { samplePrior } from '../lib/prior.ts';
import { MAX_SETTLE_TRIPS, type SettleStep } from '../lib/settle.ts';
import { mulberry32 } from '../lib/random.ts';
import { BundleReadError, readManifest, readNetwork, readPrior } from './bundle-read.ts';

const HELP = `Draw latent codes from a bundle's learned prior.

Usage: npm run sample -- --bundle DIR --count N --out FILE [options]
  --bundle DIR       a model bundle with a learned prior (e.g. public/models/faces) (required)
  --count N          how many codes, 1 to 100000 (required)
  --out FILE         where to write them: raw little-endian float32, N x latentDim (required)
  --temperature T    0 = the most typical faces, 1 = the prior as fitted (default: the bundle's
                     measured studio default, else 1)
  --seed S           whole number; the same seed gives the same codes (default 1)
  --settle N         encode–decode round trips z <- E(D(z)) for each code, 0 to 32 (default: the
                     bundle's, as the studio runs them; 0 for the prior's raw samples)
  --sheet FILE.png   also decode the codes and write them as a sheet of images
  --help             this text`;

function fail(message: string): never {
  process.stderr.write(`sample: ${message}\nRun npm run sample -- --help for usage.\n`);
  process.exit(2);
}

function parseNumber(v: string, flag: string, opts: { integer: boolean; min: number; max: number }): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < opts.min || n > opts.max) {
    fail(`${flag} must be ${opts.integer ? 'a whole number' : 'a number'} from ${opts.min} to ${opts.max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The codes after `trips` round trips through the bundle's encoder and decoder, each moved by the prior's step as the studio does. */
async function settled(dir: string, manifest: BundleManifest, codes: Float32Array, trips: number, step: SettleStep | undefined): Promise<Float32Array> {
  if (!manifest.encoder) fail(`${dir} has no encoder, so its samples cannot be settled; pass --settle 0`);
  const [{ selectBackend }, { settleWith }] = await Promise.all([import('./backend.ts'), import('./settle-node.ts')]);
  await selectBackend('wasm', 1);
  const [encoder, decoder] = await Promise.all([readNetwork(dir, manifest, 'encoder'), readNetwork(dir, manifest, 'decoder')]);
  return settleWith(encoder, decoder, codes, trips, manifest.latentDim, step);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        bundle: { type: 'string' }, count: { type: 'string' }, temperature: { type: 'string' }, seed: { type: 'string' },
        out: { type: 'string' }, sheet: { type: 'string' }, settle: { type: 'string' }, help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) return void console.log(HELP);
  for (const flag of ['bundle', 'count', 'out'] as const) if (!values[flag]) fail(`--${flag} is required`);
  const count = parseNumber(values.count!, '--count', { integer: true, min: 1, max: 100000 });
  const seed = values.seed === undefined ? 1 : parseNumber(values.seed, '--seed', { integer: true, min: 0, max: 2 ** 32 - 1 });
  if (values.sheet && !values.sheet.toLowerCase().endsWith('.png')) fail(`--sheet must name a .png file, got ${JSON.stringify(values.sheet)}`);
  if (values.sheet && count > 1024) fail(`--sheet draws at most 1024 images; ask for fewer codes or leave out --sheet (got --count ${count})`);
  const manifest = readManifest(values.bundle!);
  const prior = readPrior(values.bundle!, manifest);
  const fallback = (manifest.metrics.prior as { defaultTemperature?: number } | undefined)?.defaultTemperature ?? 1;
  const temperature = values.temperature === undefined ? fallback : parseNumber(values.temperature, '--temperature', { integer: false, min: 0, max: 2 });
  const trips = values.settle === undefined ? prior.settle ?? 0 : parseNumber(values.settle, '--settle', { integer: true, min: 0, max: MAX_SETTLE_TRIPS });
  let codes = samplePrior(prior, count, temperature, mulberry32(seed));
  if (trips > 0) codes = await settled(values.bundle!, manifest, codes, trips, prior.settleStep);
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, new Uint8Array(codes.buffer));
  console.log(`Wrote ${count} codes (${count} x ${manifest.latentDim} float32, temperature ${temperature}, seed ${seed}${trips ? `, settled by ${trips} round trip${trips > 1 ? 's' : ''}` : ''}) to ${values.out}.`);
  if (values.sheet) {
    const { selectBackend } = await import('./backend.ts');
    const { decodeToBytes, tile } = await import('./report.ts');
    await selectBackend('wasm', 1);
    const decoder = await readNetwork(values.bundle!, manifest, 'decoder');
    const { bytes, h, w, c } = decodeToBytes(decoder, codes, manifest.latentDim);
    mkdirSync(dirname(values.sheet), { recursive: true });
    writeFileSync(values.sheet, tile(bytes, count, h, w, c, Math.ceil(Math.sqrt(count))).png);
    console.log(`Wrote a sheet of ${count} decoded images to ${values.sheet}.`);
  }
}

main().catch((e) => {
  if (e instanceof BundleReadError) fail(e.message);
  throw e;
});
