/**
 * A small network that gives each face its own move for one attribute: a
 * multilayer perceptron (ReLU between layers, linear output) from a face's
 * code to the move that adds the attribute to that face. It is fitted to
 * counterfactual pairs (training/edit-net.ts): the code of a face and of the
 * very same face drawn with the attribute, which only a generated face set
 * can supply. The bundle stores it as float16, little-endian, base64url:
 * for each layer its kernel (inputs × outputs, row-major) then its bias.
 * Pure arithmetic, so the studio, the mix API in workerd and the Node build
 * all run the same few lines.
 */
import { fromBase64Url } from './base64url.ts';
import { decodeHalf } from './float16.ts';

/** The stored form: layer widths from the code's size to the code's size, and the weights. */
export interface EditNetFile {
  sizes: number[];
  float16: string;
}

/** The decoded form the move is computed with. */
export interface EditNet {
  sizes: readonly number[];
  weights: Float32Array;
}

/** Widest layer a bundle may hold: keeps a hostile or corrupt file from asking for gigabytes. */
export const MAX_NET_WIDTH = 4096;

/** Weights of a network with these layer widths (kernels and biases). */
export function netParameterCount(sizes: readonly number[]): number {
  let n = 0;
  for (let l = 1; l < sizes.length; l++) n += sizes[l - 1]! * sizes[l]! + sizes[l]!;
  return n;
}

/** Why `sizes` cannot be a network from and to d-dimensional codes, or null. */
export function netSizesProblem(sizes: unknown, d: number): string | null {
  if (!Array.isArray(sizes) || sizes.length < 2) return '"sizes" must list at least two layer widths';
  if (!sizes.every((s) => Number.isInteger(s) && s >= 1 && s <= MAX_NET_WIDTH)) return `"sizes" must be whole numbers from 1 to ${MAX_NET_WIDTH}`;
  if (sizes[0] !== d || sizes[sizes.length - 1] !== d) return `"sizes" must start and end with the latent size ${d}, got ${JSON.stringify(sizes)}`;
  return null;
}

/** Decodes a stored network, checking that its weights fit its widths. */
export function decodeNet(file: EditNetFile, d: number): EditNet {
  const problem = netSizesProblem(file.sizes, d);
  if (problem) throw new Error(problem);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(file.float16);
  } catch {
    throw new Error('"float16" is not base64url');
  }
  const want = netParameterCount(file.sizes);
  if (bytes.length !== 2 * want) throw new Error(`"float16" holds ${bytes.length >> 1} weights; widths ${JSON.stringify(file.sizes)} need ${want}`);
  const weights = decodeHalf(bytes);
  if (!weights.every(Number.isFinite)) throw new Error('"float16" holds a weight that is not finite');
  return { sizes: file.sizes.slice(), weights };
}

/** The network's output for the code z: the move that adds the attribute to this face. */
export function netMove(net: EditNet, z: ArrayLike<number>): Float64Array {
  const { sizes, weights } = net;
  if (z.length !== sizes[0]) throw new Error(`a network for ${sizes[0]} dimensions cannot move a ${z.length}-D face`);
  let x = Float64Array.from(z);
  let at = 0;
  for (let l = 1; l < sizes.length; l++) {
    const inputs = sizes[l - 1]!;
    const outputs = sizes[l]!;
    const y = new Float64Array(outputs);
    for (let i = 0; i < inputs; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = at + i * outputs;
      for (let o = 0; o < outputs; o++) y[o]! += xi * weights[row + o]!;
    }
    at += inputs * outputs;
    const last = l === sizes.length - 1;
    for (let o = 0; o < outputs; o++) {
      const v = y[o]! + weights[at + o]!;
      y[o] = last || v > 0 ? v : 0;
    }
    at += outputs;
    x = y;
  }
  return x;
}
