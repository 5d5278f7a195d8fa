/**
 * The digit set: labelled grey images in one file, small enough for a page to
 * fetch and train on (public/data/mnist-10k.bin, written by
 * `npm run data:digit-set`). The layout, all integers little-endian:
 *
 *   "LADIGIT1"                     8 bytes of ASCII
 *   header length                  u32
 *   header                         UTF-8 JSON {"train":N,"test":M,"height":H,"width":W,"source":"..."}
 *   train pixels, train labels     N*H*W bytes (0..255, row-major), N bytes (0..9)
 *   test pixels, test labels       M*H*W bytes, M bytes
 *
 * The file is served gzip-compressed; readDigitSet takes either form. It is
 * the one parser of this format, for the browser, its workers and Node alike.
 */
import { concatBytes } from './bytes.ts';

export interface DigitSplit {
  count: number;
  /** count * height * width pixels, 0..255, row-major. */
  images: Uint8Array;
  /** One digit 0..9 per image. */
  labels: Uint8Array;
}

export interface DigitSet {
  height: number;
  width: number;
  /** Where the images came from, for people. */
  source: string;
  train: DigitSplit;
  test: DigitSplit;
}

export class DigitSetError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'DigitSetError';
  }
}

const MAGIC = 'LADIGIT1';
/** Magic and header length. */
const PREFIX_BYTES = 12;
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_SIDE = 1024;
const MAX_IMAGES = 1_000_000;
/** Far more than any set a page should download; a header promising more is damaged. */
const MAX_BODY_BYTES = 2 ** 30;
const CLASSES = 10;

interface Header {
  train: number;
  test: number;
  height: number;
  width: number;
  source: string;
}

type SplitName = 'train' | 'test';

/** The uncompressed layout of `set`; throws if its arrays disagree with its counts and sides. */
export function encodeDigitSet(set: DigitSet): Uint8Array {
  const pixels = set.height * set.width;
  for (const name of ['train', 'test'] as const) checkSplit(set[name], name, pixels);
  const header: Header = { train: set.train.count, test: set.test.count, height: set.height, width: set.width, source: set.source };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix.set(new TextEncoder().encode(MAGIC));
  new DataView(prefix.buffer).setUint32(8, headerBytes.length, true);
  return concatBytes([prefix, headerBytes, set.train.images, set.train.labels, set.test.images, set.test.labels]);
}

function checkSplit(split: DigitSplit, name: SplitName, pixels: number): void {
  if (!Number.isInteger(split.count) || split.count < 0) throw new RangeError(`${name} count must be a whole number >= 0, got ${split.count}`);
  if (split.images.length !== split.count * pixels) throw new RangeError(`${name} has ${split.images.length} pixels, expected ${split.count} images x ${pixels}`);
  if (split.labels.length !== split.count) throw new RangeError(`${name} has ${split.labels.length} labels for ${split.count} images`);
  const bad = badLabel(split.labels);
  if (bad) throw new RangeError(`${name} label ${bad.index} is ${bad.value}, outside 0..${CLASSES - 1}`);
}

function badLabel(labels: Uint8Array): { index: number; value: number } | null {
  const index = labels.findIndex((l) => l >= CLASSES);
  return index < 0 ? null : { index, value: labels[index]! };
}

/**
 * Reads a digit set from the bytes of its file, gzip-compressed or not.
 * `where` names the file in errors (its URL or path). The splits are views
 * into one buffer, not copies.
 */
export async function readDigitSet(bytes: Uint8Array, where = 'the digit set'): Promise<DigitSet> {
  if (!isGzip(bytes)) return parseLayout(bytes, where);
  return parseLayout(await gunzip(bytes, where), `${where} (decompressed)`);
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

async function gunzip(bytes: Uint8Array, where: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') throw new DigitSetError(where, 'is gzip-compressed and this runtime has no DecompressionStream to open it: use a current browser');
  try {
    return await drain(bytes.slice(), new DecompressionStream('gzip'));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DigitSetError(where, `is gzip-compressed but does not decompress (${reason}); the download was probably cut short: fetch it again`);
  }
}

/** Writes `bytes` through the stream while reading it out (a writer awaited alone could wait forever on a full queue). */
async function drain(bytes: Uint8Array<ArrayBuffer>, stream: DecompressionStream): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  const written = writer.write(bytes).then(() => writer.close());
  // A damaged stream fails both sides; the reader's error is the one reported.
  written.catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  await written;
  return concatBytes(chunks);
}

function parseLayout(bytes: Uint8Array, where: string): DigitSet {
  checkMagic(bytes, where);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw new DigitSetError(where, `claims a ${headerLength}-byte header (at most ${MAX_HEADER_BYTES}): the file is damaged`);
  if (bytes.length < PREFIX_BYTES + headerLength) {
    throw new DigitSetError(where, `is truncated inside its ${headerLength}-byte header (${bytes.length} bytes in all): fetch it again`);
  }
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength), where);
  const pixels = header.height * header.width;
  const start = PREFIX_BYTES + headerLength;
  checkLength(bytes.length, start + (header.train + header.test) * (pixels + 1), header, where);
  const trainLabels = start + header.train * pixels;
  const testImages = trainLabels + header.train;
  const testLabels = testImages + header.test * pixels;
  const train = { count: header.train, images: bytes.subarray(start, trainLabels), labels: bytes.subarray(trainLabels, testImages) };
  const test = { count: header.test, images: bytes.subarray(testImages, testLabels), labels: bytes.subarray(testLabels) };
  for (const [split, name] of [[train, 'train'], [test, 'test']] as const) checkLabels(split.labels, name, where);
  return { height: header.height, width: header.width, source: header.source, train, test };
}

function checkMagic(bytes: Uint8Array, where: string): void {
  const opening = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  const cutShort = bytes.length > 0 && bytes.length < MAGIC.length && MAGIC.startsWith(opening);
  if (opening !== MAGIC && !cutShort) throw new DigitSetError(where, `is not a digit set (one starts with "${MAGIC}"): it ${describe(bytes)}`);
  if (bytes.length < PREFIX_BYTES) throw new DigitSetError(where, `is truncated: ${bytes.length} bytes, fewer than the ${PREFIX_BYTES} that open a digit set; fetch it again`);
}

/** What a file that is not a digit set looks like, for the error a person reads. */
function describe(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'is empty (0 bytes); the server sent nothing: check the address';
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, 64)).trimStart();
  const opening = JSON.stringify(text.slice(0, 24));
  if (text.startsWith('LADIGIT')) return `is a digit set of another version (starting ${opening}); this reader knows ${MAGIC} only`;
  if (/^<(!doctype html|html|head|body|!--)/i.test(text)) return `is an HTML page (starting ${opening}); the server answered with a page, probably "not found": check the address`;
  if (/^[{[]/.test(text)) return `is JSON text (starting ${opening})`;
  if (/^[\x20-\x7e\t\r\n]{8}/.test(text)) return `is text (starting ${opening})`;
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `starts with the bytes ${hex}`;
}

function parseHeader(bytes: Uint8Array, where: string): Header {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (e) {
    throw new DigitSetError(where, `its header is not JSON (${e instanceof Error ? e.message : String(e)}): the file is damaged`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DigitSetError(where, 'its header is not a JSON object: the file is damaged');
  const o = value as Record<string, unknown>;
  const header: Header = {
    train: whole(o, 'train', 1, MAX_IMAGES, where),
    test: whole(o, 'test', 0, MAX_IMAGES, where),
    height: whole(o, 'height', 1, MAX_SIDE, where),
    width: whole(o, 'width', 1, MAX_SIDE, where),
    source: typeof o.source === 'string' ? o.source : headerFail(where, `"source" must be a string, got ${JSON.stringify(o.source)}`),
  };
  const body = (header.train + header.test) * (header.height * header.width + 1);
  if (body > MAX_BODY_BYTES) headerFail(where, `promises ${body} bytes of images, more than ${MAX_BODY_BYTES}`);
  return header;
}

function whole(o: Record<string, unknown>, key: keyof Header, min: number, max: number, where: string): number {
  const v = o[key];
  if (v === undefined) headerFail(where, `has no "${key}"`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) headerFail(where, `"${key}" must be a whole number in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

function headerFail(where: string, problem: string): never {
  throw new DigitSetError(where, `its header ${problem.startsWith('"') ? 'field ' : ''}${problem}: the file is damaged`);
}

function checkLength(got: number, expected: number, header: Header, where: string): void {
  const promise = `${header.train} training and ${header.test} test images of ${header.height}x${header.width}`;
  if (got < expected) throw new DigitSetError(where, `is truncated: its header promises ${promise}, ${expected} bytes, but it has ${got}; fetch it again`);
  const extra = got - expected;
  if (extra > 0) throw new DigitSetError(where, `has ${extra} byte${extra === 1 ? '' : 's'} after the ${expected} its header promises (${promise}): the file is damaged`);
}

function checkLabels(labels: Uint8Array, name: SplitName, where: string): void {
  const bad = badLabel(labels);
  if (bad) throw new DigitSetError(where, `${name} label ${bad.index} is ${bad.value}, outside 0..${CLASSES - 1}: the file is damaged`);
}

/** v / 255 as float32 for every byte v, so a batch here holds exactly the values Node's training reads. */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * The images at `indices` as float32 [n, h, w] in [0, 1] (pixels / 255), a
 * training batch. `out`, if given, must hold exactly n * h * w values and is
 * filled and returned, so a training loop can reuse one buffer.
 */
export function digitBatch(split: DigitSplit, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const p = split.count > 0 ? split.images.length / split.count : 0;
  const size = indices.length * p;
  if (out && out.length !== size) throw new RangeError(`out holds ${out.length} values; ${indices.length} images need ${size}`);
  const x = out ?? new Float32Array(size);
  for (let k = 0; k < indices.length; k++) {
    const index = indices[k]!;
    if (!(Number.isInteger(index) && index >= 0 && index < split.count)) throw new RangeError(`image index ${index} outside 0..${split.count - 1}`);
    const from = index * p;
    const to = k * p;
    for (let i = 0; i < p; i++) x[to + i] = UNIT[split.images[from + i]!]!;
  }
  return x;
}
