/**
 * npm run prior -- --bundle DIR [--data-dir DIR] [--judge-data DIR] [--try gmm-40,diffusion] [--temperature T]
 *
 * Fits the learned latent prior of a face bundle (lib/prior.ts) to the encoder
 * means of its training faces and writes prior.json + prior.bin beside the
 * manifest. With --judge-data (a face set apart from the model's, e.g. made by
 * npm run data:avatars with another seed) it also measures every sampler with
 * an independent judge and writes the table, the chosen default temperature
 * and labelled sample sheets into the bundle (training/prior-build.ts).
 */
import { parseArgs } from 'node:util';
import { selectBackend } from './backend.ts';
import { BundleReadError, readManifest, readNetwork } from './bundle-read.ts';
import { buildPrior, loadFaces, PRIOR_DEFAULTS } from './prior-build.ts';
import { formatDuration } from './progress.ts';
import { MAX_RELAX, MAX_SETTLE_TRIPS } from '../lib/settle.ts';

const HELP = `Fit the learned latent prior of a face bundle, and measure it.

Usage: npm run prior -- --bundle DIR [options]
  --bundle DIR          the bundle (e.g. public/models/faces) (required)
  --data-dir DIR        the model's own face set, CelebA layout (default: the manifest's dataset.source)
  --judge-data DIR      a separate face set for the independent judge; without it the prior is fitted
                        but not measured
  --try LIST            densities to fit, e.g. gmm-10,gmm-40,diffusion (default ${PRIOR_DEFAULTS.tries.join(',')}): gmm-K is
                        a mixture of K full-covariance Gaussians, diffusion a small latent diffusion
                        model; with --judge-data the one with the lowest FID at the default
                        temperature is shipped
  --diffusion-steps N   training steps of the diffusion model (default ${PRIOR_DEFAULTS.diffusionSteps})
  --temperature T       the studio's default temperature, measured and written to the manifest (default ${PRIOR_DEFAULTS.temperature})
  --settle LIST         encode-decode round-trip counts to measure for settling samples, e.g. 2,4,8
                        (default ${PRIOR_DEFAULTS.settleTrips.join(',')}; 0 for none); each trip is corrected by an affine
                        map fitted on training codes; the fewest trips the judge reads about as clearly
                        as the best, with an FID within 3x the reconstructions', go to prior.json
  --relax A             over-relaxation of each round trip, above 0 and at most ${MAX_RELAX} (default ${PRIOR_DEFAULTS.relax};
                        1: none)
  --measure-only        measure the bundle's prior as it is, without refitting it (needs --judge-data)
  --count N             images per measured row (default ${PRIOR_DEFAULTS.count})
  --iterations N        EM iterations at most (default ${PRIOR_DEFAULTS.iterations})
  --seed S              seed for the fit and the samples (default ${PRIOR_DEFAULTS.seed})
  --cache-dir DIR       preprocessed image shards and encoded codes (default data/cache)
  --help                this text`;

function fail(message: string): never {
  process.stderr.write(`prior: ${message}\nRun npm run prior -- --help for usage.\n`);
  process.exit(2);
}

function number(v: string | undefined, flag: string, fallback: number, min: number, integer: boolean): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) fail(`${flag} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** "1,2,4" → [1, 2, 4] (ascending, distinct); "0" → none. */
function parseTrips(v: string | undefined): number[] {
  if (v === undefined) return PRIOR_DEFAULTS.settleTrips;
  const parts = v.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^\d+$/.test(x) || Number(x) > MAX_SETTLE_TRIPS)) fail(`--settle takes round-trip counts from 0 to ${MAX_SETTLE_TRIPS}, comma-separated, got ${JSON.stringify(v)}`);
  return [...new Set(parts.map(Number).filter((n) => n > 0))].sort((a, b) => a - b);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        bundle: { type: 'string' }, 'data-dir': { type: 'string' }, 'judge-data': { type: 'string' },
        try: { type: 'string', default: PRIOR_DEFAULTS.tries.join(',') }, 'diffusion-steps': { type: 'string' }, temperature: { type: 'string' },
        count: { type: 'string' }, settle: { type: 'string' }, relax: { type: 'string' }, 'measure-only': { type: 'boolean', default: false }, iterations: { type: 'string' }, seed: { type: 'string' }, 'cache-dir': { type: 'string', default: 'data/cache' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) return void console.log(HELP);
  if (!values.bundle) fail('--bundle is required');
  const tries = values.try!.split(',').map((s) => s.trim());
  for (const t of tries) if (!/^gmm-[1-9]\d*$/.test(t) && t !== 'diffusion') fail(`--try takes gmm-K (K a whole number from 1) or diffusion, got ${JSON.stringify(t)}`);
  if (tries.length > 1 && !values['judge-data']) fail('trying several densities needs --judge-data to choose between them');
  if (values['measure-only'] && !values['judge-data']) fail('--measure-only needs --judge-data: without a judge there is nothing to measure');
  const settleTrips = parseTrips(values.settle);
  if (values.relax !== undefined && !(Number(values.relax) > 0 && Number(values.relax) <= MAX_RELAX)) fail(`--relax must be a number above 0 and at most ${MAX_RELAX}, got ${JSON.stringify(values.relax)}`);
  const options = {
    tries,
    diffusionSteps: number(values['diffusion-steps'], '--diffusion-steps', PRIOR_DEFAULTS.diffusionSteps, 1, true),
    temperature: number(values.temperature, '--temperature', PRIOR_DEFAULTS.temperature, 0, false),
    count: number(values.count, '--count', PRIOR_DEFAULTS.count, 10, true),
    iterations: number(values.iterations, '--iterations', PRIOR_DEFAULTS.iterations, 1, true),
    seed: number(values.seed, '--seed', PRIOR_DEFAULTS.seed, 0, true),
    settleTrips,
    relax: number(values.relax, '--relax', PRIOR_DEFAULTS.relax, 0, false),
    measureOnly: values['measure-only']!,
  };
  const dir = values.bundle;
  const manifest = readManifest(dir);
  if (manifest.image.channels !== 3 || !manifest.encoder) fail(`${dir} is not a face bundle with an encoder; the learned prior is fitted to a face model's encoder means`);
  const dataDir = values['data-dir'] ?? manifest.dataset.source;
  if (!dataDir || dataDir.startsWith('npm:')) fail(`--data-dir is needed: the manifest names no face set (${JSON.stringify(manifest.dataset.source)})`);
  const started = Date.now();
  await selectBackend('wasm', 2);
  const encoder = await readNetwork(dir, manifest, 'encoder');
  const decoder = await readNetwork(dir, manifest, 'decoder');
  const cacheDir = values['cache-dir']!;
  const data = await loadFaces(dataDir, manifest, cacheDir).catch((e: Error) => fail(e.message));
  const judgeDir = values['judge-data'];
  await buildPrior({
    ...options, dir, manifest, data, dataDir, encoder, decoder, cacheDir,
    judgeDir, loadJudgeData: judgeDir ? () => loadFaces(judgeDir, manifest, cacheDir) : undefined,
    command: ['npm run prior --', ...process.argv.slice(2)].join(' '),
  });
  console.log(`Done in ${formatDuration((Date.now() - started) / 1000)}.`);
}

main().catch((e) => {
  if (e instanceof BundleReadError) fail(e.message);
  throw e;
});
