/**
 * Faster `Conv2DBackpropInput` for the tfjs wasm backend.
 *
 * The stock wasm kernel is a single-threaded scalar loop, and it runs for every
 * conv2dTranspose forward pass and every conv2d input gradient, so it dominates
 * training time of conv VAEs. Here it is re-expressed with the XNNPACK-backed
 * `Conv2D` kernel using the sub-pixel (phase) decomposition:
 *
 *   dx[b, q*s + r, ...] = sum_t dy[b, q + dMin + t, ...] * W[r + pad - s*(dMin + t)]
 *
 * i.e. for each of the s*s output phases (r_y, r_x) the transposed conv is a
 * stride-1 correlation of dy with a sub-kernel of W. The sub-kernels are
 * stacked along output channels, so all phases run as ONE stride-1 conv with
 * s*s*Cin output channels, then get interleaved (a DepthToSpace). Compared
 * with zero-insertion this skips the (s*s-1)/(s*s) multiplications by inserted
 * zeros; for stride 1 it reduces to the usual "conv with the 180-degree
 * rotated, channel-swapped filter".
 */
import '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  Conv2D,
  Conv2DBackpropInput,
  getKernel,
  registerKernel,
  unregisterKernel,
  util,
  type Conv2DBackpropInputAttrs,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/** The slice of BackendWasm's API the kernel needs. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

type KernelArgs = Parameters<KernelFunc>[0];

/** How one spatial axis of the transposed conv maps onto the stride-1 conv. */
interface AxisPlan {
  /** Taps of the phase sub-kernels along this axis (the most any phase needs). */
  taps: number;
  /** Per phase r: phase r's output q reads dy[q + start[r] + t], t < taps. */
  start: number[];
  /** Per phase r: index of phase r's q = 0 in the conv output. */
  shift: number[];
  /** Conv output cells along this axis. */
  convLen: number;
  /** Explicit padding of dy for the stride-1 conv (never negative). */
  padBefore: number;
  padAfter: number;
  /** Rows/cols of dy the conv never reads (when padding would be negative). */
  cropBefore: number;
  cropAfter: number;
}

/**
 * Plans one axis: `k` filter taps, stride `s`, forward-conv padding `pad`
 * before the first input cell, `dyLen` gradient cells and `fullLen` cells of
 * the reconstructed input.
 *
 * Output cell y = q*s + r receives W[i] * dy[d] for every i with
 * r + pad - i = s*d. Phases read different dy windows (for 4x4 stride 2, d in
 * {-1, 0} and {0, 1}); rather than widen the shared window to cover all of
 * them (3 taps, more than half of them zero), each phase keeps its own
 * `taps`-wide window and reads the conv output `shift` cells further on.
 */
function planAxis(k: number, s: number, pad: number, dyLen: number, fullLen: number): AxisPlan {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let r = 0; r < s; r++) {
    lo.push(Infinity);
    hi.push(-Infinity);
    for (let i = 0; i < k; i++) {
      const num = r + pad - i;
      if (num % s !== 0) continue;
      lo[r] = Math.min(lo[r]!, num / s);
      hi[r] = Math.max(hi[r]!, num / s);
    }
  }
  const used = lo.filter(Number.isFinite);
  const taps = Math.max(...hi.map((h, r) => h - lo[r]! + 1).filter(Number.isFinite));
  const first = Math.min(...used);
  // Start each window as close to the common first offset as its taps allow,
  // so phases share conv output cells (and interleave in longer runs).
  const start = lo.map((l, r) => (Number.isFinite(l) ? Math.max(hi[r]! - taps + 1, first) : first));
  const shift = start.map((st) => st - first);
  const convLen = Math.max(...shift.map((sh, r) => sh + Math.ceil((fullLen - r) / s)));
  const before = -first;
  const after = convLen - dyLen - before + taps - 1;
  return {
    taps,
    start,
    shift,
    convLen,
    padBefore: Math.max(before, 0),
    padAfter: Math.max(after, 0),
    cropBefore: Math.max(-before, 0),
    cropAfter: Math.max(-after, 0),
  };
}

/**
 * Builds the stride-1 filter [tapsH, tapsW, Cout, s*s*Cin] from the forward
 * filter W [kh, kw, Cin, Cout]; output channel (ry*s + rx)*Cin + ci holds phase
 * (ry, rx). Taps that fall outside W stay zero.
 */
function buildPhaseFilter(
  backend: WasmBackend,
  filter: TensorInfo,
  s: number,
  padTop: number,
  padLeft: number,
  h: AxisPlan,
  w: AxisPlan,
): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const outCh = s * s * cin;
  const out = backend.makeOutput([h.taps, w.taps, cout, outCh], 'float32');
  // Views are taken after the allocation above: growing wasm memory detaches
  // earlier views.
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  for (let th = 0; th < h.taps; th++) {
    for (let tw = 0; tw < w.taps; tw++) {
      for (let ry = 0; ry < s; ry++) {
        const i = ry + padTop - s * (h.start[ry]! + th);
        if (i < 0 || i >= kh) continue;
        for (let rx = 0; rx < s; rx++) {
          const j = rx + padLeft - s * (w.start[rx]! + tw);
          if (j < 0 || j >= kw) continue;
          const srcBase = (i * kw + j) * cin * cout;
          const dstBase = (th * w.taps + tw) * cout * outCh + (ry * s + rx) * cin;
          for (let co = 0; co < cout; co++) {
            const d = dstBase + co * outCh;
            for (let ci = 0; ci < cin; ci++) dst[d + ci] = src[srcBase + ci * cout + co]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * The whole wasm heap as floats plus the float offsets of `a` and `b` in it,
 * so copies between tensors can use copyWithin without allocating views.
 */
function heapOffsets(backend: WasmBackend, a: TensorInfo, b: TensorInfo): [Float32Array, number, number] {
  const va = backend.typedArrayFromHeap(a);
  const vb = backend.typedArrayFromHeap(b);
  // Division, not `>> 2`: the heap may exceed 2 GB, where a signed shift goes
  // negative and copyWithin would count from the end of the heap.
  return [new Float32Array(va.buffer), va.byteOffset / 4, vb.byteOffset / 4];
}

/** Copies the [top, top+outH) x [left, left+outW) window of an NHWC tensor. */
function cropNHWC(
  backend: WasmBackend,
  x: TensorInfo,
  top: number,
  left: number,
  outH: number,
  outW: number,
): TensorInfo {
  const [b, inH, inW, c] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([b, outH, outW, c], 'float32');
  const [heap, src, dst] = heapOffsets(backend, x, out);
  const rowLen = outW * c;
  let o = dst;
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < outH; y++) {
      const start = src + ((n * inH + top + y) * inW + left) * c;
      heap.copyWithin(o, start, start + rowLen);
      o += rowLen;
    }
  }
  return out;
}

/**
 * Assembles dx [B, outH, outW, C] from the conv output [B, convH, convW,
 * s*s*C]: dx[b, qy*s + ry, qx*s + rx] = conv[b, qy + shiftY[ry],
 * qx + shiftX[rx], phase (ry, rx)] (DepthToSpace with per-phase offsets,
 * cropped). When the phases of a row share their column shift, their channel
 * blocks are adjacent in the source and are copied as one run. (The wasm
 * DepthToSpace kernel does per-element index arithmetic and costs as much as
 * the conv itself.)
 */
function interleavePhases(
  backend: WasmBackend,
  x: TensorInfo,
  s: number,
  c: number,
  h: AxisPlan,
  w: AxisPlan,
  outH: number,
  outW: number,
): TensorInfo {
  const [b, convH, convW] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([b, outH, outW, c], 'float32');
  const [heap, src, dst] = heapOffsets(backend, x, out);
  const pixel = s * s * c;
  const sameShift = w.shift.every((v) => v === w.shift[0]);
  let o = dst;
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < outH; y++) {
      const ry = y % s;
      const rowBase = src + (n * convH + (y - ry) / s + h.shift[ry]!) * convW * pixel + ry * s * c;
      if (sameShift) {
        const full = Math.floor(outW / s);
        let i = rowBase + w.shift[0]! * pixel;
        for (let qx = 0; qx < full; qx++, i += pixel, o += s * c) heap.copyWithin(o, i, i + s * c);
        const rest = (outW - full * s) * c;
        heap.copyWithin(o, i, i + rest);
        o += rest;
      } else {
        for (let x = 0; x < outW; x++, o += c) {
          const rx = x % s;
          const i = rowBase + ((x - rx) / s + w.shift[rx]!) * pixel + rx * c;
          heap.copyWithin(o, i, i + c);
        }
      }
    }
  }
  return out;
}

/** One output phase r of one axis, computed on its own (see splitPhases). */
interface PhaseAxis {
  /** Phase r's output q reads dy[q + lo + t] with W[r + pad - s*(lo + t)], t < taps. */
  lo: number;
  taps: number;
  /** Output cells of this phase: ceil((fullLen - r) / s). */
  count: number;
  /** Zero padding of dy before / after for this phase's valid stride-1 conv. */
  padBefore: number;
  padAfter: number;
  /** Index of this phase's q = 0 in that conv's output. */
  offset: number;
}

function phaseAxes(k: number, s: number, pad: number, dyLen: number, fullLen: number): PhaseAxis[] {
  const out: PhaseAxis[] = [];
  for (let r = 0; r < s; r++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < k; i++) {
      const num = r + pad - i;
      if (num % s !== 0) continue;
      lo = Math.min(lo, num / s);
      hi = Math.max(hi, num / s);
    }
    const count = Math.max(0, Math.ceil((fullLen - r) / s));
    if (!Number.isFinite(lo)) {
      out.push({ lo: 0, taps: 0, count, padBefore: 0, padAfter: 0, offset: 0 });
      continue;
    }
    const taps = hi - lo + 1;
    const padBefore = Math.max(-lo, 0);
    const offset = lo + padBefore;
    const padAfter = Math.max(0, offset + count + taps - 1 - dyLen - padBefore);
    out.push({ lo, taps, count, padBefore, padAfter, offset });
  }
  return out;
}

/** Phase (ry, rx)'s own filter [tapsH, tapsW, Cout, Cin] from W [kh, kw, Cin, Cout]. */
function buildOnePhaseFilter(backend: WasmBackend, filter: TensorInfo, s: number, padTop: number, padLeft: number, ry: number, rx: number, h: PhaseAxis, w: PhaseAxis): TensorInfo {
  const [, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([h.taps, w.taps, cout, cin], 'float32');
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  for (let th = 0; th < h.taps; th++) {
    const i = ry + padTop - s * (h.lo + th);
    for (let tw = 0; tw < w.taps; tw++) {
      const j = rx + padLeft - s * (w.lo + tw);
      const srcBase = (i * kw + j) * cin * cout;
      const dstBase = (th * w.taps + tw) * cout * cin;
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < cin; ci++) dst[dstBase + co * cin + ci] = src[srcBase + ci * cout + co]!;
      }
    }
  }
  return out;
}

/**
 * The transposed conv as s*s separate stride-1 convs, one per output phase,
 * each with only the taps its phase has. One stacked conv (above) pads every
 * phase to the largest tap count: for 3x3 stride 2 the phases have 2x2, 2x1,
 * 1x2 and 1x1 taps, so it multiplies 16 taps where 9 are real. Used when that
 * waste is large; the phases are written straight into dx.
 */
function splitPhases(backend: WasmBackend, args: KernelArgs, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo, hs: PhaseAxis[], ws: PhaseAxis[]): TensorInfo {
  const s = info.strideHeight;
  const c = info.inChannels;
  const [b, dyH, dyW] = dy.shape as [number, number, number, number];
  const outH = info.inHeight;
  const outW = info.inWidth;
  const dx = backend.makeOutput([b, outH, outW, c], 'float32');
  if (hs.some((p) => p.taps === 0) || ws.some((p) => p.taps === 0)) backend.typedArrayFromHeap(dx).fill(0);
  for (let ry = 0; ry < s; ry++) {
    for (let rx = 0; rx < s; rx++) {
      const h = hs[ry]!;
      const w = ws[rx]!;
      if (h.taps === 0 || w.taps === 0 || h.count === 0 || w.count === 0) continue;
      const f = buildOnePhaseFilter(backend, filter, s, info.padInfo.top, info.padInfo.left, ry, rx, h, w);
      const conv = runKernel(Conv2D, {
        inputs: { x: dy, filter: f },
        backend: args.backend,
        attrs: { strides: 1, dilations: 1, pad: [[0, 0], [h.padBefore, h.padAfter], [w.padBefore, w.padAfter], [0, 0]], dataFormat: 'NHWC' },
      });
      backend.disposeData(f.dataId);
      const convH = dyH + h.padBefore + h.padAfter - h.taps + 1;
      const convW = dyW + w.padBefore + w.padAfter - w.taps + 1;
      const [heap, src, dst] = heapOffsets(backend, conv, dx);
      for (let n = 0; n < b; n++) {
        for (let qy = 0; qy < h.count; qy++) {
          let i = src + ((n * convH + h.offset + qy) * convW + w.offset) * c;
          let o = dst + ((n * outH + qy * s + ry) * outW + rx) * c;
          if (c >= 16) {
            for (let qx = 0; qx < w.count; qx++, i += c, o += s * c) heap.copyWithin(o, i, i + c);
          } else {
            for (let qx = 0; qx < w.count; qx++, i += c, o += s * c) {
              for (let k = 0; k < c; k++) heap[o + k] = heap[i + k]!;
            }
          }
        }
      }
      backend.disposeData(conv.dataId);
    }
  }
  return dx;
}

/** Multiplications of the stacked conv over those of the per-phase convs. */
function stackedWaste(hs: PhaseAxis[], ws: PhaseAxis[]): number {
  const maxH = Math.max(...hs.map((p) => p.taps));
  const maxW = Math.max(...ws.map((p) => p.taps));
  let real = 0;
  for (const h of hs) for (const w of ws) real += h.taps * w.taps * h.count * w.count;
  let stacked = 0;
  for (const h of hs) for (const w of ws) stacked += maxH * maxW * h.count * w.count;
  return real > 0 ? stacked / real : Infinity;
}

/** Above this waste the per-phase convs are used (3x3 stride 2: 16/9). */
const SPLIT_WASTE = 1.3;

/** Runs a registered wasm kernel from inside another kernel. */
function runKernel(name: string, args: KernelArgs): TensorInfo {
  return getKernel(name, 'wasm').kernelFunc(args) as TensorInfo;
}

/**
 * The stock kernel while ours is registered. Kept on globalThis because a
 * second copy of this module (another import path, a test runner) would
 * otherwise take our kernel for the stock one and fall back onto itself.
 */
const state = ((globalThis as Record<symbol, unknown>)[Symbol.for('latent-atelier/wasm-fast-conv')] ??= {}) as {
  original?: KernelConfig;
};

/** For tests and benchmarks: when to run the phases as separate convs ('auto': when stacking wastes much). */
let splitMode: 'auto' | 'always' | 'never' = 'auto';
export function setPhaseSplit(mode: 'auto' | 'always' | 'never'): void {
  splitMode = mode;
}

/** Whether the phase decomposition applies; other cases use the stock kernel. */
function supported(info: backend_util.Conv2DInfo, dy: TensorInfo, filter: TensorInfo): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.strideHeight === info.strideWidth &&
    dy.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    util.sizeFromShape(info.inShape) > 0
  );
}

/** Conv2DBackpropInput via one XNNPACK stride-1 conv + phase interleave. */
function fastConv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as unknown as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (!supported(info, dy, filter)) return state.original!.kernelFunc(args) as TensorInfo;

  const s = info.strideHeight;
  const { top, left } = info.padInfo;
  if (s > 1 && splitMode !== 'never') {
    const hs = phaseAxes(info.filterHeight, s, top, info.outHeight, info.inHeight);
    const ws = phaseAxes(info.filterWidth, s, left, info.outWidth, info.inWidth);
    if (splitMode === 'always' || stackedWaste(hs, ws) > SPLIT_WASTE) return splitPhases(backend, args, dy, filter, info, hs, ws);
  }
  const h = planAxis(info.filterHeight, s, top, info.outHeight, info.inHeight);
  const w = planAxis(info.filterWidth, s, left, info.outWidth, info.inWidth);
  const temps: TensorInfo[] = [];

  let x = dy;
  if (h.cropBefore + h.cropAfter + w.cropBefore + w.cropAfter > 0) {
    x = cropNHWC(
      backend,
      dy,
      h.cropBefore,
      w.cropBefore,
      info.outHeight - h.cropBefore - h.cropAfter,
      info.outWidth - w.cropBefore - w.cropAfter,
    );
    temps.push(x);
  }
  const phaseFilter = buildPhaseFilter(backend, filter, s, top, left, h, w);
  temps.push(phaseFilter);
  let out = runKernel(Conv2D, {
    inputs: { x, filter: phaseFilter },
    backend: args.backend,
    attrs: {
      strides: 1,
      dilations: 1,
      pad: [
        [0, 0],
        [h.padBefore, h.padAfter],
        [w.padBefore, w.padAfter],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  });
  if (s > 1 || out.shape[1] !== info.inHeight || out.shape[2] !== info.inWidth) {
    temps.push(out);
    out = interleavePhases(backend, out, s, info.inChannels, h, w, info.inHeight, info.inWidth);
  }
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

/**
 * Replaces the wasm backend's Conv2DBackpropInput kernel (used by
 * conv2dTranspose and by conv2d's input gradient) with the XNNPACK-based one.
 * Idempotent; may be called before or after the wasm backend is initialised.
 */
export function registerFastWasmConvKernels(): void {
  if (state.original !== undefined) return;
  const stock = getKernel(Conv2DBackpropInput, 'wasm');
  if (stock === undefined) throw new Error('wasm Conv2DBackpropInput kernel is not registered');
  state.original = stock;
  unregisterKernel(Conv2DBackpropInput, 'wasm');
  registerKernel({
    kernelName: Conv2DBackpropInput,
    backendName: 'wasm',
    // The stock kernel's cwrap set-up must still run: it is our fallback.
    setupFunc: stock.setupFunc,
    kernelFunc: fastConv2DBackpropInput as unknown as KernelFunc,
  });
}

/** Puts the stock kernel back (for A/B comparisons in tests and benchmarks). */
export function unregisterFastWasmConvKernels(): void {
  if (state.original === undefined) return;
  unregisterKernel(Conv2DBackpropInput, 'wasm');
  registerKernel(state.original);
  state.original = undefined;
}
