/**
 * CelebA in its on-disk layout, as downloaded ("Align&Cropped Images" plus the
 * two annotation files) or as written by `npm run data:avatars`:
 *
 *   <dir>/img_align_celeba/000001.jpg ...   178x218 JPEGs
 *   <dir>/list_attr_celeba.txt              count, 40 names, then "name v1 ... v40" with v = 1 / -1
 *   <dir>/list_eval_partition.txt           "name p", p = 0 train, 1 validation, 2 test
 *
 * 200,000 images do not fit in memory as floats, so the first load decodes,
 * crops and resizes every image once into uint8 shards under the cache folder;
 * later loads read the shards (see `loadCelebA` for the cache layout).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { ProgressBar } from '../progress.ts';
import { shuffledIndices } from './split.ts';
import type { Batch, ImageDataset, Split } from './types.ts';

/** The forty attributes, in the column order of list_attr_celeba.txt. */
export const CELEBA_ATTRIBUTES = [
  '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes', 'Bald', 'Bangs', 'Big_Lips', 'Big_Nose',
  'Black_Hair', 'Blond_Hair', 'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Double_Chin', 'Eyeglasses',
  'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones', 'Male', 'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes',
  'No_Beard', 'Oval_Face', 'Pale_Skin', 'Pointy_Nose', 'Receding_Hairline', 'Rosy_Cheeks', 'Sideburns', 'Smiling',
  'Straight_Hair', 'Wavy_Hair', 'Wearing_Earrings', 'Wearing_Hat', 'Wearing_Lipstick', 'Wearing_Necklace',
  'Wearing_Necktie', 'Young',
] as const;

export type CelebAAttribute = (typeof CELEBA_ATTRIBUTES)[number];

/** Size of the aligned images in img_align_celeba/. */
export const CELEBA_WIDTH = 178;
export const CELEBA_HEIGHT = 218;

const IMAGE_DIR = 'img_align_celeba';
const ATTR_FILE = 'list_attr_celeba.txt';
const PARTITION_FILE = 'list_eval_partition.txt';
const LAYOUT_HINT =
  `expected CelebA's layout: ${IMAGE_DIR}/000001.jpg ..., ${ATTR_FILE} and ${PARTITION_FILE} ` +
  `(CelebA's "Align&Cropped Images" download with its annotation files, or a folder made by npm run data:avatars)`;

/** Bumped whenever the crop, the resize or the shard format changes, so old caches are rebuilt. */
const CACHE_FORMAT = 1;
const MAX_IMAGES_PER_SHARD = 10_000;
/** Shards are read whole while streaming batches; this bounds one shard's size for large image sizes. */
const MAX_SHARD_BYTES = 128 * 1024 * 1024;
/** Shards shuffled together in `batches()`; more gives a better shuffle, at the cost of memory. */
const MAX_WINDOW_BYTES = 512 * 1024 * 1024;

export class CelebAError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelebAError';
  }
}

export interface CelebAOptions {
  /** Output [height, width]; default [64, 64]. */
  size?: [number, number];
  /** Where the preprocessed shards live; default <dir>/../cache. */
  cacheDir?: string;
  /** Use only the first `limit` training images (partition 0), for quick runs. */
  limit?: number;
  /** Images per shard (default: up to 10,000, fewer for large sizes so a shard stays under 128 MiB). */
  shardSize?: number;
  /** Progress and skipped-image reports; default process.stderr, null for silence. */
  log?: NodeJS.WritableStream | null;
  /**
   * Width in source pixels of the region kept before resizing (0 or absent:
   * the widest region that fits). CelebA work often keeps a centred 108 or
   * 140 px of the 178: the face fills more of the image. See cropBox.
   */
  crop?: number;
}

export interface SkippedImage {
  file: string;
  reason: string;
}

export interface CelebADataset extends ImageDataset {
  readonly attributeNames: readonly string[];
  readonly train: ShardSplit;
  readonly test: ShardSplit;
  /** Partition 1; empty if the partition file lists none. */
  readonly val: ShardSplit;
  /** Listed images that could not be decoded (missing, truncated, not a JPEG); they are in no split. */
  readonly skipped: readonly SkippedImage[];
  /** The folder holding this size's shards and index.json. */
  readonly cachePath: string;
  /** True if the shards were (re)built by this call. */
  readonly rebuilt: boolean;
  /** The crop width in source pixels (0: the widest region). */
  readonly crop: number;
}

/* ---------------------------------------------------------------- annotation files */

interface Annotations {
  attributeNames: string[];
  files: string[];
  /** files.length x attributeNames.length values, +1 / -1. */
  attributes: Int8Array;
  partitions: Uint8Array;
}

function readText(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw new CelebAError(`${path} is missing; ${LAYOUT_HINT}`);
  return readFileSync(path, 'utf8');
}

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

export function parseAttributes(text: string, path: string): Pick<Annotations, 'attributeNames' | 'files' | 'attributes'> {
  const all = lines(text);
  const declared = all[0]?.trim() ?? '';
  if (!/^\d+$/.test(declared)) {
    throw new CelebAError(`${path} line 1: expected the number of images, found ${JSON.stringify(declared.slice(0, 40))}; is this CelebA's list_attr_celeba.txt?`);
  }
  const count = Number(declared);
  const attributeNames = (all[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (attributeNames.length === 0) throw new CelebAError(`${path} line 2: expected the attribute names, found an empty line`);
  const per = attributeNames.length;
  const files: string[] = [];
  const attributes = new Int8Array(count * per);
  const seen = new Set<string>();
  for (let ln = 2; ln < all.length; ln++) {
    const row = all[ln]!.trim();
    if (row === '') continue;
    const where = `${path} line ${ln + 1}`;
    const fields = row.split(/\s+/);
    if (fields.length !== per + 1) {
      throw new CelebAError(`${where}: expected a file name and ${per} values, found ${fields.length - 1} values; fix or re-download the file`);
    }
    if (files.length >= count) {
      throw new CelebAError(`${path}: line 1 says ${count} images but there are more rows (row at line ${ln + 1}); the count or the rows were edited — re-download the file`);
    }
    const file = fields[0]!;
    if (seen.has(file)) throw new CelebAError(`${where}: ${file} is listed twice`);
    seen.add(file);
    const base = files.length * per;
    for (let a = 0; a < per; a++) {
      const v = fields[a + 1];
      if (v !== '1' && v !== '-1') {
        throw new CelebAError(`${where}: value ${JSON.stringify(v)} for ${attributeNames[a]} is not 1 or -1`);
      }
      attributes[base + a] = v === '1' ? 1 : -1;
    }
    files.push(file);
  }
  if (files.length !== count) {
    throw new CelebAError(`${path}: line 1 says ${count} images but the file has ${files.length} rows; the file is truncated or edited — re-download it`);
  }
  return { attributeNames, files, attributes };
}

export function parsePartitions(text: string, path: string, files: readonly string[]): Uint8Array {
  const index = new Map(files.map((f, i) => [f, i]));
  const partitions = new Uint8Array(files.length).fill(255);
  const all = lines(text);
  for (let ln = 0; ln < all.length; ln++) {
    const row = all[ln]!.trim();
    if (row === '') continue;
    const where = `${path} line ${ln + 1}`;
    const fields = row.split(/\s+/);
    if (fields.length !== 2 || !/^[012]$/.test(fields[1]!)) {
      throw new CelebAError(`${where}: expected "<file name> <0|1|2>", found ${JSON.stringify(row.slice(0, 60))}`);
    }
    const i = index.get(fields[0]!);
    if (i === undefined) throw new CelebAError(`${where}: ${fields[0]} is not listed in ${ATTR_FILE}; the two files disagree — re-download both`);
    partitions[i] = Number(fields[1]);
  }
  const missing = partitions.indexOf(255);
  if (missing >= 0) throw new CelebAError(`${path}: ${files[missing]} (listed in ${ATTR_FILE}) has no partition; the two files disagree — re-download both`);
  return partitions;
}

function readAnnotations(dir: string): Annotations & { attrText: string; partitionText: string } {
  const attrText = readText(dir, ATTR_FILE);
  const partitionText = readText(dir, PARTITION_FILE);
  const parsed = parseAttributes(attrText, join(dir, ATTR_FILE));
  const partitions = parsePartitions(partitionText, join(dir, PARTITION_FILE), parsed.files);
  return { ...parsed, partitions, attrText, partitionText };
}

/* ---------------------------------------------------------------- crop and resize */

/**
 * The source region for an output of `outH` x `outW`: by default the widest
 * box of the output's aspect ratio that fits; with `crop` (a width in source
 * pixels) a box that wide, so the face fills more of the output. It is centred
 * horizontally and centred vertically on row 119 of 218 (not 109, the middle):
 * CelebA's aligned faces sit below the middle (eyes near row 111, mouth near
 * 152), so a 178x178 square starts at row 30 instead of 20 and keeps the chin
 * rather than empty space above the hair, and a 140 px crop keeps rows 49-188,
 * brow to chin plus most of the hair. FIDLE's 192x160 (h x w) needs 178x214
 * and ends up nearly uncropped.
 */
export function cropBox(srcW: number, srcH: number, outH: number, outW: number, crop = 0): { left: number; top: number; width: number; height: number } {
  const aspect = outW / outH;
  const widest = Math.min(srcW, Math.round(srcH * aspect));
  const width = crop > 0 ? Math.min(widest, Math.round(crop)) : widest;
  const height = Math.min(srcH, Math.round(width / aspect));
  const centreY = srcH * (119 / 218);
  const top = Math.max(0, Math.min(srcH - height, Math.round(centreY - height / 2)));
  const left = Math.round((srcW - width) / 2);
  return { left, top, width, height };
}

/** One image as HWC RGB uint8 at outH x outW. Linear (triangle) filtering, widened by libvips when shrinking, so it averages like an area filter without ringing. */
async function preprocess(path: string, outH: number, outW: number, crop: number): Promise<Buffer> {
  // sharp's default failOn ('warning') rejects truncated JPEGs too, which libjpeg would half-decode.
  const image = sharp(path);
  const meta = await image.metadata();
  if (!meta.width || !meta.height) throw new Error('no image size in the file header');
  const { data, info } = await image
    .extract(cropBox(meta.width, meta.height, outH, outW, crop))
    .resize(outW, outH, { kernel: 'linear', fit: 'fill' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== outW || info.height !== outH) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${outW}x${outH}x3`);
  }
  return data;
}

/* ---------------------------------------------------------------- cache */

interface SplitIndex {
  count: number;
  shards: { file: string; count: number }[];
  /** Base64 of Int8Array(count x attributes): +1 / -1. */
  attributes: string;
  /** Base64 of Int32Array(count): 0-based row of each image in list_attr_celeba.txt. */
  rows: string;
}

interface CacheIndex {
  format: number;
  source: string;
  fingerprint: string;
  height: number;
  width: number;
  attributeNames: string[];
  imagesPerShard: number;
  splits: { train: SplitIndex; val: SplitIndex; test: SplitIndex };
  skipped: SkippedImage[];
  createdAt: string;
}

/**
 * Changes when the annotations, the set of listed images, any listed image's
 * size or modification time, the output size, the selection or the cache
 * format change: anything after which the shards would hold other pixels.
 */
function fingerprint(dir: string, attrText: string, partitionText: string, files: readonly string[], outH: number, outW: number, crop: number, limit: number, shardSize: number): string {
  const h = createHash('sha256');
  h.update(`format ${CACHE_FORMAT} size ${outH}x${outW}${crop > 0 ? ` crop ${crop}` : ''} limit ${limit} shard ${shardSize}\n`);
  h.update(attrText);
  h.update(partitionText);
  const imageDir = join(dir, IMAGE_DIR);
  for (const f of files) {
    let stamp = 'missing';
    try {
      const s = statSync(join(imageDir, f));
      stamp = `${s.size} ${s.mtimeMs}`;
    } catch {
      // A missing image is part of the fingerprint: adding it later must rebuild.
    }
    h.update(`${f} ${stamp}\n`);
  }
  return h.digest('hex');
}

function toBase64(a: Int8Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function int8FromBase64(s: string): Int8Array {
  const b = Buffer.from(s, 'base64');
  return new Int8Array(b.buffer, b.byteOffset, b.byteLength);
}

function int32FromBase64(s: string): Int32Array {
  const b = Buffer.from(s, 'base64');
  // Copy: Buffer's pool offset is not always 4-byte aligned.
  return new Int32Array(new Uint8Array(b).buffer);
}

async function readIndex(path: string): Promise<CacheIndex | null> {
  try {
    return JSON.parse(await readFile(join(path, 'index.json'), 'utf8')) as CacheIndex;
  } catch {
    return null;
  }
}

/** Decode the selected rows into shards, in order, skipping (and recording) images that do not decode. */
async function buildSplit(
  out: string, name: string, dir: string, ann: Annotations, rows: readonly number[], outH: number, outW: number, crop: number,
  imagesPerShard: number, skipped: SkippedImage[], bar: ProgressBar | null, done: { n: number },
): Promise<SplitIndex> {
  const bytes = outH * outW * 3;
  const per = ann.attributeNames.length;
  const keptRows: number[] = [];
  const shards: SplitIndex['shards'] = [];
  let shard = Buffer.alloc(Math.min(rows.length, imagesPerShard) * bytes);
  let inShard = 0;
  const flush = async (): Promise<void> => {
    if (inShard === 0) return;
    const file = `${name}-${String(shards.length).padStart(3, '0')}.bin`;
    await writeFile(join(out, file), shard.subarray(0, inShard * bytes));
    shards.push({ file, count: inShard });
    inShard = 0;
  };
  // Decode a chunk concurrently (libvips runs on the thread pool), then keep the results in listing order.
  const CHUNK = 32;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const results = await Promise.all(chunk.map((r) =>
      preprocess(join(dir, IMAGE_DIR, ann.files[r]!), outH, outW, crop).then(
        (pixels) => ({ pixels, error: null as string | null }),
        (err: unknown) => ({ pixels: null, error: err instanceof Error ? err.message : String(err) }),
      )));
    for (let k = 0; k < chunk.length; k++) {
      const res = results[k]!;
      const row = chunk[k]!;
      if (res.pixels) {
        res.pixels.copy(shard, inShard * bytes);
        inShard++;
        keptRows.push(row);
        if (inShard === imagesPerShard) await flush();
      } else {
        skipped.push({ file: ann.files[row]!, reason: (res.error ?? 'unknown error').split('\n')[0]! });
      }
    }
    done.n += chunk.length;
    bar?.update(done.n, skipped.length ? `(${skipped.length} skipped)` : '');
  }
  await flush();
  const attributes = new Int8Array(keptRows.length * per);
  keptRows.forEach((r, i) => attributes.set(ann.attributes.subarray(r * per, (r + 1) * per), i * per));
  return { count: keptRows.length, shards, attributes: toBase64(attributes), rows: toBase64(Int32Array.from(keptRows)) };
}

/* ---------------------------------------------------------------- split over shards */

/** A Split over uint8 shards on disk: random reads by index, and epoch streaming a few shards at a time. */
export class ShardSplit implements Split {
  readonly count: number;
  readonly attributes: Int8Array;
  /** 0-based row of each image in list_attr_celeba.txt. */
  readonly rows: Int32Array;
  private readonly bytes: number;
  private readonly starts: number[];
  private readonly fds = new Map<number, number>();

  constructor(
    private readonly dir: string,
    private readonly shards: readonly { file: string; count: number }[],
    private readonly height: number,
    private readonly width: number,
    attributes: Int8Array,
    rows: Int32Array,
    count?: number,
  ) {
    const total = shards.reduce((s, x) => s + x.count, 0);
    this.count = Math.min(count ?? total, total);
    const per = rows.length > 0 ? attributes.length / rows.length : 0;
    this.attributes = attributes.subarray(0, this.count * per);
    this.rows = rows.subarray(0, this.count);
    this.bytes = height * width * 3;
    this.starts = [];
    let s = 0;
    for (const sh of shards) { this.starts.push(s); s += sh.count; }
  }

  /** A split holding only the first `n` images (for quick runs). */
  head(n: number): ShardSplit {
    return new ShardSplit(this.dir, this.shards, this.height, this.width, this.attributes, this.rows, Math.min(n, this.count));
  }

  private shardOf(idx: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= idx) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  private fd(shard: number): number {
    let fd = this.fds.get(shard);
    if (fd === undefined) {
      const path = join(this.dir, this.shards[shard]!.file);
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        throw new CelebAError(`cache shard ${path} cannot be opened (${(err as Error).message}); delete ${this.dir} to rebuild it`);
      }
      this.fds.set(shard, fd);
    }
    return fd;
  }

  /** Close the shard files opened by read(); the split stays usable and reopens them on demand. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  read(indices: ArrayLike<number>): Float32Array {
    const p = this.bytes;
    const out = new Float32Array(indices.length * p);
    const buf = Buffer.alloc(p);
    for (let k = 0; k < indices.length; k++) {
      const idx = indices[k]!;
      if (!(Number.isInteger(idx) && idx >= 0 && idx < this.count)) throw new RangeError(`image index ${idx} outside 0..${this.count - 1}`);
      const s = this.shardOf(idx);
      const got = readSync(this.fd(s), buf, 0, p, (idx - this.starts[s]!) * p);
      if (got !== p) throw new CelebAError(`cache shard ${join(this.dir, this.shards[s]!.file)} is truncated; delete ${this.dir} to rebuild it`);
      toFloats(buf, out, k * p);
    }
    return out;
  }

  /**
   * One epoch in batches. Memory stays bounded: shards are visited in a seeded
   * order, a few at a time (a "window" of at most MAX_WINDOW_BYTES), and the
   * images of a window are shuffled together. The order depends only on the
   * seed and the shard sizes, so `skip` needs no reading.
   */
  *batches(batchSize: number, seed: number, skip = 0): Iterable<Batch> {
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batch size must be a whole number > 0, got ${batchSize}`);
    const { order, windowOf } = this.epochOrder(seed);
    const window = new Map<number, Buffer>();
    const p = this.bytes;
    for (let start = skip * batchSize; start < order.length; start += batchSize) {
      const indices = order.subarray(start, Math.min(start + batchSize, order.length));
      const needed = new Set<number>();
      for (const idx of indices) needed.add(this.shardOf(idx));
      // The order visits one window at a time: once a batch needs none of a window's shards, drop them.
      const liveWindows = new Set([...needed].map((s) => windowOf.get(s)));
      for (const s of window.keys()) if (!liveWindows.has(windowOf.get(s))) window.delete(s);
      for (const s of needed) if (!window.has(s)) window.set(s, this.loadShard(s));
      const x = new Float32Array(indices.length * p);
      for (let k = 0; k < indices.length; k++) {
        const idx = indices[k]!;
        const s = this.shardOf(idx);
        const local = idx - this.starts[s]!;
        toFloats(window.get(s)!.subarray(local * p, (local + 1) * p), x, k * p);
      }
      yield { x, size: indices.length, indices };
    }
  }

  private loadShard(s: number): Buffer {
    const path = join(this.dir, this.shards[s]!.file);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw new CelebAError(`cache shard ${path} cannot be read (${(err as Error).message}); delete ${this.dir} to rebuild it`);
    }
    if (data.length < this.shards[s]!.count * this.bytes) throw new CelebAError(`cache shard ${path} is truncated; delete ${this.dir} to rebuild it`);
    return data;
  }

  /** The epoch's index order, and the window each shard belongs to. */
  private epochOrder(seed: number): { order: Int32Array; windowOf: Map<number, number> } {
    const usable = this.starts.map((st, s) => Math.max(0, Math.min(this.shards[s]!.count, this.count - st)));
    const live = usable.map((n, s) => (n > 0 ? s : -1)).filter((s) => s >= 0);
    const shardOrder = shuffledIndices(live.length, seed);
    const largestShard = Math.max(1, ...this.shards.map((sh) => sh.count));
    const perWindow = Math.max(1, Math.floor(MAX_WINDOW_BYTES / (largestShard * this.bytes)));
    const windowOf = new Map<number, number>();
    const order = new Int32Array(this.count);
    let at = 0;
    for (let w = 0; w * perWindow < live.length; w++) {
      const members = Array.from(shardOrder.subarray(w * perWindow, (w + 1) * perWindow), (i) => live[i]!);
      const pool: number[] = [];
      for (const s of members) {
        windowOf.set(s, w);
        for (let i = 0; i < usable[s]!; i++) pool.push(this.starts[s]! + i);
      }
      const shuffle = shuffledIndices(pool.length, (seed ^ Math.imul(w + 1, 0x9e3779b1)) >>> 0);
      for (const i of shuffle) order[at++] = pool[i]!;
    }
    return { order, windowOf };
  }
}

const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

function toFloats(src: Uint8Array, out: Float32Array, at: number): void {
  for (let i = 0; i < src.length; i++) out[at + i] = BYTE_TO_UNIT[src[i]!]!;
}

/* ---------------------------------------------------------------- loader */

function splitFromIndex(path: string, index: CacheIndex, s: SplitIndex): ShardSplit {
  return new ShardSplit(path, s.shards, index.height, index.width, int8FromBase64(s.attributes), int32FromBase64(s.rows));
}

function reportSkipped(log: NodeJS.WritableStream | null, dir: string, skipped: readonly SkippedImage[]): void {
  if (!log || skipped.length === 0) return;
  const shown = skipped.slice(0, 5).map((s) => `  ${s.file}: ${s.reason}`).join('\n');
  log.write(`celeba: skipped ${skipped.length} unreadable image(s) in ${join(dir, IMAGE_DIR)} (they are in no split):\n${shown}${skipped.length > 5 ? `\n  ... and ${skipped.length - 5} more (see index.json)` : ''}\n`);
}

/**
 * Load a folder in CelebA's layout as an ImageDataset (train = partition 0,
 * test = partition 2, val = partition 1), building the shard cache on first use.
 *
 * Cache: <cacheDir>/<folder name>-<hash of its path>/<h>x<w>[-limitN]/ holds
 * train-000.bin ... (uint8 HWC RGB, up to 10,000 images a shard), val-*.bin,
 * test-*.bin and index.json (attributes, rows, counts, skipped images and a
 * fingerprint of the source). A cache whose fingerprint differs is rebuilt.
 */
export async function loadCelebA(dir: string, opts: CelebAOptions = {}): Promise<CelebADataset> {
  const [outH, outW] = opts.size ?? [64, 64];
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 8 && outW >= 8 && outH <= 1024 && outW <= 1024)) {
    throw new CelebAError(`image size must be whole numbers between 8 and 1024 (height x width), got ${outH}x${outW}`);
  }
  const limit = opts.limit ?? 0;
  if (!(Number.isInteger(limit) && limit >= 0)) throw new CelebAError(`limit must be a whole number >= 0, got ${limit}`);
  const crop = opts.crop ?? 0;
  if (!(Number.isInteger(crop) && crop >= 0)) throw new CelebAError(`crop must be a whole number of source pixels >= 0 (0: the widest region), got ${crop}`);
  const log = opts.log === undefined ? process.stderr : opts.log;
  const source = resolve(dir);
  if (!existsSync(source)) throw new CelebAError(`CelebA folder ${source} not found; ${LAYOUT_HINT}`);
  if (!existsSync(join(source, IMAGE_DIR))) throw new CelebAError(`${join(source, IMAGE_DIR)}/ is missing; ${LAYOUT_HINT}`);

  const ann = readAnnotations(source);
  const rowsOf = (p: number): number[] => {
    const r: number[] = [];
    ann.partitions.forEach((q, i) => { if (q === p) r.push(i); });
    return r;
  };
  let trainRows = rowsOf(0);
  if (limit > 0) trainRows = trainRows.slice(0, limit);
  const valRows = rowsOf(1);
  const testRows = rowsOf(2);
  if (trainRows.length === 0) throw new CelebAError(`${join(source, PARTITION_FILE)} puts no image in the training partition (0)`);
  if (testRows.length === 0) throw new CelebAError(`${join(source, PARTITION_FILE)} puts no image in the test partition (2); give some images partition 2 (npm run data:avatars -- --test-fraction 0.1)`);

  const selected = [...trainRows, ...valRows, ...testRows].map((r) => ann.files[r]!);
  const bytes = outH * outW * 3;
  const imagesPerShard = opts.shardSize ?? Math.max(1, Math.min(MAX_IMAGES_PER_SHARD, Math.floor(MAX_SHARD_BYTES / bytes)));
  if (!(Number.isInteger(imagesPerShard) && imagesPerShard >= 1)) throw new CelebAError(`shardSize must be a whole number >= 1, got ${imagesPerShard}`);
  const print = fingerprint(source, ann.attrText, ann.partitionText, selected, outH, outW, crop, limit, imagesPerShard);
  const cacheRoot = resolve(opts.cacheDir ?? join(source, '..', 'cache'));
  const key = `${basename(source)}-${createHash('sha256').update(source).digest('hex').slice(0, 8)}`;
  const path = join(cacheRoot, key, `${outH}x${outW}${crop > 0 ? `-crop${crop}` : ''}${limit > 0 ? `-limit${limit}` : ''}`);

  let index = await readIndex(path);
  let rebuilt = false;
  if (!index || index.format !== CACHE_FORMAT || index.fingerprint !== print) {
    if (index && log) log.write(`celeba: cache ${path} is stale (the source changed); rebuilding\n`);
    // Build beside the final folder and swap it in at the end, so an interrupted build leaves no half cache.
    const partial = `${path}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const total = selected.length;
    const bar = log ? new ProgressBar({ total, label: `celeba ${outH}x${outW}${crop > 0 ? ` crop ${crop}` : ''} cache`, unit: 'img', stream: log as NodeJS.WriteStream }) : null;
    const skipped: SkippedImage[] = [];
    const done = { n: 0 };
    try {
      const build = (name: string, rows: number[]): Promise<SplitIndex> =>
        buildSplit(partial, name, source, ann, rows, outH, outW, crop, imagesPerShard, skipped, bar, done);
      const train = await build('train', trainRows);
      const val = await build('val', valRows);
      const test = await build('test', testRows);
      bar?.finish(skipped.length ? `(${skipped.length} skipped)` : '');
      for (const [name, s] of [['train', train], ['test', test]] as const) {
        if (s.count === 0) throw new CelebAError(`no ${name} image in ${join(source, IMAGE_DIR)} could be decoded (${skipped.length} skipped, e.g. ${skipped[0]?.file}: ${skipped[0]?.reason}); check that the folder holds the JPEGs`);
      }
      index = {
        format: CACHE_FORMAT, source, fingerprint: print, height: outH, width: outW,
        attributeNames: ann.attributeNames, imagesPerShard, splits: { train, val, test }, skipped,
        createdAt: new Date().toISOString(),
      };
      await writeFile(join(partial, 'index.json'), JSON.stringify(index));
      await rm(path, { recursive: true, force: true });
      try {
        await rename(partial, path);
      } catch (err) {
        // Another process built the same cache meanwhile: keep its copy if it matches.
        if ((await readIndex(path))?.fingerprint !== print) throw err;
        await rm(partial, { recursive: true, force: true });
      }
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
    rebuilt = true;
  }
  reportSkipped(log, source, index.skipped);

  return {
    name: 'CelebA',
    source,
    image: { height: outH, width: outW, channels: 3 },
    attributeNames: index.attributeNames,
    train: splitFromIndex(path, index, index.splits.train),
    val: splitFromIndex(path, index, index.splits.val),
    test: splitFromIndex(path, index, index.splits.test),
    skipped: index.skipped,
    cachePath: path,
    rebuilt,
    crop,
  };
}
