/**
 * Checkpoints: model weights, the optimiser's state and the loop's position in
 * one file, written to a temporary name and renamed, so an interrupted write
 * never replaces the last good checkpoint.
 *
 * Layout: 8-byte magic "LATCKPT1", uint32 header length, UTF-8 JSON header,
 * then the float32 values of every tensor named in the header, in order.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = 'LATCKPT1';

export interface TensorEntry {
  name: string;
  shape: number[];
}

export interface CheckpointFile<S> {
  state: S;
  tensors: { name: string; tensor: tf.Tensor }[];
}

export function saveCheckpoint<S>(path: string, state: S, tensors: { name: string; tensor: tf.Tensor }[]): void {
  const entries: TensorEntry[] = tensors.map((t) => ({ name: t.name, shape: t.tensor.shape }));
  const header = new TextEncoder().encode(JSON.stringify({ state, tensors: entries }));
  const total = tensors.reduce((n, t) => n + t.tensor.size, 0);
  const buf = new Uint8Array(12 + header.length + total * 4);
  buf.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buf.buffer).setUint32(8, header.length, true);
  buf.set(header, 12);
  let offset = 12 + header.length;
  for (const t of tensors) {
    const data = t.tensor.dataSync() as Float32Array;
    buf.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    offset += data.byteLength;
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, buf);
  renameSync(tmp, path);
}

export class CheckpointError extends Error {
  constructor(path: string, problem: string) {
    super(`checkpoint ${path}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

export function loadCheckpoint<S>(path: string): CheckpointFile<S> {
  if (!existsSync(path)) throw new CheckpointError(path, 'does not exist; there is nothing to resume (start without --resume)');
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.subarray(0, 8).toString('latin1') !== MAGIC) throw new CheckpointError(path, 'is not a Latent Atelier checkpoint');
  const headerLen = buf.readUInt32LE(8);
  if (12 + headerLen > buf.length) throw new CheckpointError(path, 'is truncated in its header');
  let header: { state: S; tensors: TensorEntry[] };
  try {
    header = JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8'));
  } catch {
    throw new CheckpointError(path, 'has a damaged header');
  }
  let offset = 12 + headerLen;
  const tensors = header.tensors.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (offset + size * 4 > buf.length) throw new CheckpointError(path, `is truncated inside tensor ${e.name}`);
    // Copy: the file buffer's offset need not be 4-byte aligned.
    const values = new Float32Array(size);
    new Uint8Array(values.buffer).set(buf.subarray(offset, offset + size * 4));
    offset += size * 4;
    return { name: e.name, tensor: tf.tensor(values, e.shape) };
  });
  if (offset !== buf.length) throw new CheckpointError(path, `has ${buf.length - offset} unexpected trailing bytes`);
  return { state: header.state, tensors };
}
