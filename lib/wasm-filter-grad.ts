/**
 * The wasm backend has no Conv2DBackpropFilter kernel, so the weight gradient
 * of conv2d and conv2dTranspose cannot be taken there. This registers one,
 * built from kernels wasm does have (pad, slice, transpose and the XNNPACK
 * Conv2D).
 *
 * dW[kh,kw,ci,co] = sum_{b,i,j} xpad[b, i*s+kh, j*s+kw, ci] * dy[b,i,j,co].
 * Read xpad as a batch of Cin images with B channels ([Cin,H,W,B]) and dy as a
 * filter of size Ho x Wo mapping B to Cout ([Ho,Wo,B,Cout]): that sum is a
 * stride-1 conv2d with dilation s, whose output [Cin,kh',kw',Cout] is cropped
 * to the kernel size and transposed back to [kh,kw,Cin,Cout].
 *
 * It is registered as a kernel rather than as a gradient function because
 * tfjs-layers convolves through the fused conv2d op, whose gradient calls
 * this kernel directly; a kernel serves that path and the plain one alike.
 */
import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The slice of BackendWasm's API the heap copies need. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * Images [b0, b0+bc) of x [B,H,W,C] as [C, outH, outW, bc]: zero-padded by
 * `top` rows and `left` columns and cut to outH x outW (cells past the input
 * stay zero). One pass with JS typed arrays; the wasm PadV2 + Slice +
 * Transpose it replaces made three copies, the transpose a generic strided
 * loop that cost as much as the GEMM. Per pixel it moves a [bc, C] block to
 * [C, bc], writing runs of bc floats.
 */
export function padTransposeToCHWB(backend: WasmHeap, x: TensorInfo, top: number, left: number, outH: number, outW: number, b0 = 0, bc = x.shape[0]!): TensorInfo {
  const [, h, w, c] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([c, outH, outW, bc], 'float32');
  // Views only after makeOutput: growing the heap detaches earlier ones.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  const imageStride = h * w * c;
  const planeStride = outH * outW * bc;
  const y0 = Math.max(0, -top);
  const y1 = Math.min(h, outH - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(w, outW - left);
  for (let y = y0; y < y1; y++) {
    for (let xx = x0; xx < x1; xx++) {
      const s0 = b0 * imageStride + (y * w + xx) * c;
      const d0 = ((y + top) * outW + (xx + left)) * bc;
      for (let ch = 0; ch < c; ch++) {
        const d = d0 + ch * planeStride;
        let si = s0 + ch;
        for (let n = 0; n < bc; n++, si += imageStride) dst[d + n] = src[si]!;
      }
    }
  }
  return out;
}

/** Images [b0, b0+bc) of dy [B,Ho,Wo,Co] as [Ho, Wo, bc, Co]: runs of Co floats moved whole. */
export function batchToInnerHWBC(backend: WasmHeap, dy: TensorInfo, b0: number, bc: number): TensorInfo {
  const [, ho, wo, co] = dy.shape as [number, number, number, number];
  const out = backend.makeOutput([ho, wo, bc, co], 'float32');
  const src = backend.typedArrayFromHeap(dy);
  const dst = backend.typedArrayFromHeap(out);
  const heap = new Float32Array(src.buffer);
  const s = src.byteOffset / 4;
  const d = dst.byteOffset / 4;
  const pixels = ho * wo;
  for (let n = 0; n < bc; n++) {
    let si = s + (b0 + n) * pixels * co;
    for (let p = 0; p < pixels; p++, si += co) heap.copyWithin(d + (p * bc + n) * co, si, si + co);
  }
  return out;
}

/** Images [b0, b0+bc) of x [B,H,W,C] as [outH, outW, bc, C], zero-padded by top/left and cut to outH x outW. */
export function padToHWBC(backend: WasmHeap, x: TensorInfo, top: number, left: number, outH: number, outW: number, b0: number, bc: number): TensorInfo {
  const [, h, w, c] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([outH, outW, bc, c], 'float32');
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  const y0 = Math.max(0, -top);
  const y1 = Math.min(h, outH - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(w, outW - left);
  for (let n = 0; n < bc; n++) {
    for (let y = y0; y < y1; y++) {
      for (let xx = x0; xx < x1; xx++) {
        const si = (((b0 + n) * h + y) * w + xx) * c;
        const di = (((y + top) * outW + (xx + left)) * bc + n) * c;
        for (let ch = 0; ch < c; ch++) dst[di + ch] = src[si + ch]!;
      }
    }
  }
  return out;
}

/** For tests and benchmarks: when to use the swapped stride-1 form ('auto': 2 <= Cin <= Cout / 4). */
let swapMode: 'auto' | 'always' | 'never' = 'auto';
export function setFilterGradSwap(mode: 'auto' | 'always' | 'never'): void {
  swapMode = mode;
}

/**
 * Images per GEMM. The filter gradient's GEMM reduces over batch x output
 * pixels (K = 25,088 for the digits model's second layer at batch 128) into
 * a tiny output; XNNPACK then streams the packed dy panels from memory once
 * per block of output rows. Summing over chunks of the batch keeps each
 * chunk's panels in cache: 32 images were 5-15% faster than the whole batch on most layers of the digits and faces models (bench: scratch runs of each layer).
 */
let chunkImages = 32;

/** For benchmarks and tests: images per GEMM (0: the whole batch at once). */
export function setFilterGradChunk(images: number): void {
  chunkImages = images;
}

/** Runs another wasm kernel directly (as wasm's own kernels do), returning its output. */
function run(name: string, backend: tf.KernelBackend, inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is missing`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

export function conv2dBackpropFilterWasm({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as FilterGradAttrs;
  if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const [kh, kw, cin, cout] = a.filterShape;
  const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, [sh, sw], 1, a.pad as 'same', a.dimRoundingMode);
  const heap = backend as unknown as WasmHeap;
  const { top, left } = info.padInfo;
  // Rows and columns the forward pass never read contribute nothing: the padded input is cut
  // to what the last output cell reads, so the stride-1 conv below yields exactly kh x kw.
  const needH = (info.outHeight - 1) * sh + kh;
  const needW = (info.outWidth - 1) * sw + kw;
  const batch = x.shape[0]!;
  const chunk = chunkImages > 0 ? Math.min(chunkImages, batch) : batch;
  const taps = kh * kw;
  // The gradient in its final layout [kh, kw, Cin, Cout], summed over the chunks in float64.
  const acc = new Float64Array(taps * cin * cout);
  const swapped = sh === 1 && sw === 1 && swapMode !== 'never' && (swapMode === 'always' || (cin >= 2 && cin * 4 <= cout));
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const bc = Math.min(chunk, batch - b0);
    // Regular: image x as [Cin, needH, needW, bc], filter dy as [Ho, Wo, bc, Cout], giving
    // [Cin, kh, kw, Cout]. Swapped (stride 1): image dy, padded by the kernel size less one on
    // every side, as [Cout, Ho+2kh-2, Wo+2kw-2, bc], filter x as [needH, needW, bc, Cin], giving
    // [Cout, kh, kw, Cin] with the taps reversed. XNNPACK packs the filter operand on every call;
    // when Cin is much smaller than Cout, packing x instead of dy saves most of the time (the faces
    // decoder's last layer, 3 <- 32 channels at 64x64: 117 -> 80 ms). With Cin = 1 the GEMM's
    // one-column output wastes what packing saves (the digits model's 1 <- 32: 29 vs 31 ms).
    const image = swapped
      ? padTransposeToCHWB(heap, dy, kh - 1, kw - 1, info.outHeight + 2 * (kh - 1), info.outWidth + 2 * (kw - 1), b0, bc)
      : padTransposeToCHWB(heap, x, top, left, needH, needW, b0, bc);
    let filter: TensorInfo | null = null;
    try {
      filter = swapped ? padToHWBC(heap, x, top, left, needH, needW, b0, bc) : batchToInnerHWBC(heap, dy, b0, bc);
      const part = run('Conv2D', backend, { x: image, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] });
      const v = heap.typedArrayFromHeap(part);
      if (swapped) {
        for (let co = 0; co < cout; co++) {
          for (let t = 0; t < taps; t++) {
            const from = (co * taps + t) * cin;
            const to = (taps - 1 - t) * cin * cout + co;
            for (let ci = 0; ci < cin; ci++) acc[to + ci * cout]! += v[from + ci]!;
          }
        }
      } else {
        for (let ci = 0; ci < cin; ci++) {
          for (let t = 0; t < taps; t++) {
            const from = (ci * taps + t) * cout;
            const to = (t * cin + ci) * cout;
            for (let co = 0; co < cout; co++) acc[to + co]! += v[from + co]!;
          }
        }
      }
      heap.disposeData(part.dataId);
    } finally {
      heap.disposeData(image.dataId);
      if (filter) heap.disposeData(filter.dataId);
    }
  }
  const out = heap.makeOutput([kh, kw, cin, cout], 'float32');
  heap.typedArrayFromHeap(out).set(acc);
  return out;
}

/** Registers the kernel once; later calls do nothing. */
export function registerWasmFilterGradients(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')) return;
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc });
}
