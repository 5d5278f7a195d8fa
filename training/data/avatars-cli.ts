/** npm run data:avatars -- --count N --out DIR [--seed S] [--test-fraction F] [--workers W] [--facial-hair-colour dark|contrast|hair] [--frame-colours dark|all] [--overwrite] */
import { parseArgs } from 'node:util';
import { ProgressBar } from '../progress.ts';
import { FACIAL_HAIR_COLOURS, FRAME_COLOURS, writeAvatarSet, type FacialHairColour, type FrameColours } from './avatars.ts';

const HELP = `Write a labelled synthetic face set (DiceBear avataaars) in CelebA's layout:
  DIR/img_align_celeba/000001.jpg ...   178x218 JPEGs
  DIR/list_attr_celeba.txt              the 40 CelebA attributes, +1 / -1
  DIR/list_eval_partition.txt           0 = train, 2 = test

Usage: npm run data:avatars -- --count N --out DIR [options]
  --count N            number of images (required)
  --out DIR            output folder, created if missing (required)
  --seed S             whole number; the same seed writes byte-identical files (default 1)
  --test-fraction F    share of images, taken from the end, in the test partition (default 0.1)
  --workers W          worker threads rendering in parallel (default 1)
  --facial-hair-colour dark (default): black or brown beards and moustaches that show on the skin,
                       apart from the head hair's colour; contrast: any hair colour that stands out
                       from the skin (grey and blond on dark skin), as the data of f49d695e; hair:
                       the head hair's colour, as the data of the first faces models (8ebd6309)
  --frame-colours dark (default): glasses frames black, charcoal, navy or silver; all: also light
                       blue and red, as the data of the faces models up to f49d695e
  --overwrite          replace the CelebA-layout files of a non-empty DIR
  --help               this text
Attribute mapping and artwork licence: training/data/AVATARS.md`;

function fail(message: string, usage = true): never {
  process.stderr.write(`data:avatars: ${message}\n${usage ? 'Run with --help for usage.\n' : ''}`);
  process.exit(2);
}

function wholeNumber(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) fail(`${flag} is required`);
    return fallback;
  }
  if (!/^-?\d+$/.test(value)) fail(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        count: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        'test-fraction': { type: 'string' },
        workers: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        'facial-hair-colour': { type: 'string', default: 'dark' },
        'frame-colours': { type: 'string', default: 'dark' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const count = wholeNumber('--count', values.count);
  if (count < 1) fail(`--count must be at least 1, got ${count}`);
  if (!values.out) fail('--out is required');
  const seed = wholeNumber('--seed', values.seed, 1);
  const workers = wholeNumber('--workers', values.workers, 1);
  if (workers < 1) fail(`--workers must be at least 1, got ${workers}`);
  const testFraction = values['test-fraction'] === undefined ? 0.1 : Number(values['test-fraction']);
  if (!(testFraction >= 0 && testFraction < 1)) fail(`--test-fraction must be a number in [0, 1), got "${values['test-fraction']}"`);

  const facialHairColour = values['facial-hair-colour'] as FacialHairColour;
  if (!FACIAL_HAIR_COLOURS.includes(facialHairColour)) fail(`--facial-hair-colour must be one of ${FACIAL_HAIR_COLOURS.join(', ')}, got "${facialHairColour}"`);
  const frameColours = values['frame-colours'] as FrameColours;
  if (!FRAME_COLOURS.includes(frameColours)) fail(`--frame-colours must be one of ${FRAME_COLOURS.join(', ')}, got "${frameColours}"`);

  const bar = new ProgressBar({ total: count, label: 'avatars', unit: 'img' });
  const started = performance.now();
  let drawn = false;
  try {
    await writeAvatarSet({
      count, out: values.out, seed, testFraction, workers, overwrite: values.overwrite, look: { facialHairColour, frameColours },
      onProgress: (n) => { drawn = true; bar.update(n); },
    });
  } catch (err) {
    // End the progress line so the message starts on its own line.
    if (drawn && process.stderr.isTTY) process.stderr.write('\n');
    fail((err as Error).message, false);
  }
  bar.finish();
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`wrote ${count} images to ${values.out} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} img/s)\n`);
}

await main();
