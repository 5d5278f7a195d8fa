/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic
 * 0x00000801 for labels, 0x00000803 for images, then the dimension sizes)
 * followed by unsigned bytes. Files may be gzipped.
 */
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export class IdxError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'IdxError';
  }
}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes of unsigned-byte data; `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new IdxError(file, `is a damaged gzip file (${(e as Error).message})`);
    }
  }
  if (bytes.length < 8) throw new IdxError(file, `is too short (${bytes.length} bytes) to be an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = (magic >>> 8) & 0xff;
  const rank = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08 || rank < 1 || rank > 4) {
    throw new IdxError(file, `has magic number 0x${magic.toString(16).padStart(8, '0')}, not an IDX file of unsigned bytes (expected 0x00000801 or 0x00000803)`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new IdxError(file, 'is truncated inside its header');
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) throw new IdxError(file, `is truncated: header promises ${dims.join('x')} = ${expected} values but only ${actual} bytes follow`);
  if (actual > expected) throw new IdxError(file, `has ${actual - expected} unexpected bytes after its ${dims.join('x')} values`);
  return { dims, data: bytes.subarray(headerBytes) };
}

export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new IdxError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(bytes, path);
}

/** Finds `name` or `name.gz` in `dir`; the error lists both names tried. */
export function findIdx(dir: string, names: readonly string[]): string {
  for (const name of names) {
    for (const candidate of [`${dir}/${name}`, `${dir}/${name}.gz`]) if (existsSync(candidate)) return candidate;
  }
  throw new IdxError(dir, `has none of ${names.map((n) => `${n}[.gz]`).join(', ')}: give --data-dir a folder holding the four standard IDX files`);
}

/** Reads an image file and its label file and checks they agree. */
export function readImagesAndLabels(imagesPath: string, labelsPath: string): { images: IdxArray; labels: IdxArray } {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3) throw new IdxError(imagesPath, `holds a ${images.dims.length}-D array, expected images (count x rows x columns)`);
  if (labels.dims.length !== 1) throw new IdxError(labelsPath, `holds a ${labels.dims.length}-D array, expected labels (count)`);
  if (images.dims[0] !== labels.dims[0]) {
    throw new IdxError(labelsPath, `has ${labels.dims[0]} labels but ${imagesPath} has ${images.dims[0]} images`);
  }
  return { images, labels };
}
