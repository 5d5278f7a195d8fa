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
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
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
  const [kh, kw] = a.filterShape;
  const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, [sh, sw], 1, a.pad as 'same', a.dimRoundingMode);
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (temps.push(t), t);
  try {
    const { top, bottom, left, right } = info.padInfo;
    let xp = x;
    if (top || bottom || left || right) {
      xp = keep(run('PadV2', backend, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }));
    }
    // Rows and columns the forward pass never read contribute nothing; trim them.
    const needH = Math.min((info.outHeight - 1) * sh + kh, xp.shape[1]!);
    const needW = Math.min((info.outWidth - 1) * sw + kw, xp.shape[2]!);
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) {
      xp = keep(run('Slice', backend, { x: xp }, { begin: [0, 0, 0, 0], size: [xp.shape[0], needH, needW, xp.shape[3]] }));
    }
    const xT = keep(run('Transpose', backend, { x: xp }, { perm: [3, 1, 2, 0] }));
    const dyT = keep(run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }));
    let out = keep(run('Conv2D', backend, { x: xT, filter: dyT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] }));
    if (out.shape[1] !== kh || out.shape[2] !== kw) {
      out = keep(run('Slice', backend, { x: out }, { begin: [0, 0, 0, 0], size: [out.shape[0], kh, kw, out.shape[3]] }));
    }
    return run('Transpose', backend, { x: out }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Registers the kernel once; later calls do nothing. */
export function registerWasmFilterGradients(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')) return;
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc });
}
