/**
 * The variational autoencoder: an encoder q(z|x) giving a Gaussian's mean and
 * log-variance, a decoder p(x|z) giving Bernoulli pixel probabilities, the
 * reparameterised sample z = mean + exp(logVar / 2) * eps, and the loss.
 *
 * Loss (the negative ELBO, per image): the reconstruction term is the binary
 * cross-entropy of the image under the decoder's pixel probabilities, summed
 * over pixels; the KL term is how far q(z|x) strays from the N(0, I) prior,
 * in closed form. beta weights the KL term (1 = the true ELBO).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ImageShape } from './bundle.ts';

export interface ConvSpec {
  filters: number;
  kernel: number;
  stride: number;
}

export interface Architecture {
  /** Encoder convolutions, in order; the decoder mirrors the strided ones. */
  encoder: ConvSpec[];
  /** Dense layer between the flattened convolutions and the latent heads (0 = none). */
  dense: number;
  /** Decoder transposed convolutions after the dense projection, in order; a final 3x3 stride-1 one gives the image. */
  decoder: ConvSpec[];
  /** Spatial size and channels the decoder's dense layer reshapes to. */
  decoderStart: { height: number; width: number; channels: number };
  /** Batch normalisation after hidden convolutions (helps deeper face models). */
  batchNorm: boolean;
}

/** FIDLE's MNIST VAE (and the Keras example's): 28x28x1, latent 2. */
export const DIGITS_ARCHITECTURE: Architecture = {
  encoder: [
    { filters: 32, kernel: 3, stride: 1 },
    { filters: 64, kernel: 3, stride: 2 },
    { filters: 64, kernel: 3, stride: 2 },
    { filters: 64, kernel: 3, stride: 1 },
  ],
  dense: 16,
  decoder: [
    { filters: 64, kernel: 3, stride: 1 },
    { filters: 64, kernel: 3, stride: 2 },
    { filters: 32, kernel: 3, stride: 2 },
  ],
  decoderStart: { height: 7, width: 7, channels: 64 },
  batchNorm: false,
};

/** A face VAE sized for CPU training: four stride-2 convolutions and a mirrored decoder. */
export function facesArchitecture(image: ImageShape, widths: [number, number, number, number] = [32, 64, 128, 256]): Architecture {
  if (image.height % 16 !== 0 || image.width % 16 !== 0) {
    throw new Error(`the face model needs image sides divisible by 16 (four stride-2 layers), got ${image.height}x${image.width}`);
  }
  return {
    encoder: widths.map((filters) => ({ filters, kernel: 4, stride: 2 })),
    dense: 0,
    decoder: [...widths].reverse().map((filters) => ({ filters, kernel: 4, stride: 2 })),
    decoderStart: { height: image.height / 16, width: image.width / 16, channels: widths[3] },
    // Off: on wasm the batch-norm gradient runs through the scalar Tile kernel and triples the step time.
    batchNorm: false,
  };
}

export interface VaeModels {
  encoder: tfl.LayersModel;
  /** Outputs pixel probabilities in [0, 1]: what is exported and run in the browser. */
  decoder: tfl.LayersModel;
  /** The same weights, stopping before the sigmoid: the loss uses logits for numerical stability. */
  decoderLogits: tfl.LayersModel;
}

function init(seed: number) {
  return tfl.initializers.glorotUniform({ seed });
}

export function buildVae(image: ImageShape, latentDim: number, arch: Architecture, seed = 42): VaeModels {
  let s = seed;
  const next = () => init(s++);
  const x = tfl.input({ shape: [image.height, image.width, image.channels], name: 'image' });
  let h: tfl.SymbolicTensor = x;
  arch.encoder.forEach((c, i) => {
    h = tfl.layers.conv2d({ filters: c.filters, kernelSize: c.kernel, strides: c.stride, padding: 'same', kernelInitializer: next(), name: `enc_conv${i + 1}` }).apply(h) as tfl.SymbolicTensor;
    if (arch.batchNorm) h = tfl.layers.batchNormalization({ name: `enc_bn${i + 1}` }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: `enc_relu${i + 1}` }).apply(h) as tfl.SymbolicTensor;
  });
  h = tfl.layers.flatten({ name: 'enc_flatten' }).apply(h) as tfl.SymbolicTensor;
  if (arch.dense > 0) h = tfl.layers.dense({ units: arch.dense, activation: 'relu', kernelInitializer: next(), name: 'enc_dense' }).apply(h) as tfl.SymbolicTensor;
  const zMean = tfl.layers.dense({ units: latentDim, kernelInitializer: next(), name: 'z_mean' }).apply(h) as tfl.SymbolicTensor;
  const zLogVar = tfl.layers.dense({ units: latentDim, kernelInitializer: next(), name: 'z_log_var' }).apply(h) as tfl.SymbolicTensor;
  const encoder = tfl.model({ inputs: x, outputs: [zMean, zLogVar], name: 'encoder' });

  const z = tfl.input({ shape: [latentDim], name: 'z' });
  const st = arch.decoderStart;
  let d = tfl.layers.dense({ units: st.height * st.width * st.channels, activation: 'relu', kernelInitializer: next(), name: 'dec_dense' }).apply(z) as tfl.SymbolicTensor;
  d = tfl.layers.reshape({ targetShape: [st.height, st.width, st.channels], name: 'dec_reshape' }).apply(d) as tfl.SymbolicTensor;
  arch.decoder.forEach((c, i) => {
    d = tfl.layers.conv2dTranspose({ filters: c.filters, kernelSize: c.kernel, strides: c.stride, padding: 'same', kernelInitializer: next(), name: `dec_deconv${i + 1}` }).apply(d) as tfl.SymbolicTensor;
    if (arch.batchNorm) d = tfl.layers.batchNormalization({ name: `dec_bn${i + 1}` }).apply(d) as tfl.SymbolicTensor;
    d = tfl.layers.reLU({ name: `dec_relu${i + 1}` }).apply(d) as tfl.SymbolicTensor;
  });
  const logits = tfl.layers.conv2dTranspose({ filters: image.channels, kernelSize: 3, strides: 1, padding: 'same', kernelInitializer: next(), name: 'dec_logits' }).apply(d) as tfl.SymbolicTensor;
  const probs = tfl.layers.activation({ activation: 'sigmoid', name: 'image_out' }).apply(logits) as tfl.SymbolicTensor;
  const decoder = tfl.model({ inputs: z, outputs: probs, name: 'decoder' });
  const decoderLogits = tfl.model({ inputs: z, outputs: logits, name: 'decoder_logits' });
  return { encoder, decoder, decoderLogits };
}

export interface LossParts {
  /** Mean over the batch of reconstruction + beta * KL: what is minimised. */
  loss: tf.Scalar;
  reconstruction: tf.Scalar;
  kl: tf.Scalar;
}

/**
 * Summed binary cross-entropy from logits, per image: the stable form
 * max(l, 0) - l * x + log(1 + exp(-|l|)).
 */
export function bceFromLogits(x: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const perPixel = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.sum(tf.reshape(perPixel, [x.shape[0]!, -1]), 1) as tf.Tensor1D;
  });
}

/** KL(N(mean, exp(logVar)) || N(0, I)) per image: -1/2 sum(1 + logVar - mean^2 - exp(logVar)). */
export function klDivergence(zMean: tf.Tensor, zLogVar: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, zLogVar), tf.square(zMean)), tf.exp(zLogVar)), 1)) as tf.Tensor1D);
}

/** Per-image reconstruction and KL terms for a batch, with z drawn by the reparameterisation trick. */
export function elboTerms(models: VaeModels, x: tf.Tensor4D, eps: tf.Tensor2D, training: boolean): { reconstruction: tf.Tensor1D; kl: tf.Tensor1D } {
  const [zMean, zLogVar] = models.encoder.apply(x, { training }) as [tf.Tensor2D, tf.Tensor2D];
  const z = tf.add(zMean, tf.mul(tf.exp(tf.mul(0.5, zLogVar)), eps));
  const logits = models.decoderLogits.apply(z, { training }) as tf.Tensor4D;
  return { reconstruction: bceFromLogits(x, logits), kl: klDivergence(zMean, zLogVar) };
}

export function vaeLoss(models: VaeModels, x: tf.Tensor4D, eps: tf.Tensor2D, beta: number, training = true): LossParts {
  const { reconstruction, kl } = elboTerms(models, x, eps, training);
  const rec = tf.mean(reconstruction);
  const k = tf.mean(kl);
  return { loss: tf.add(rec, tf.mul(beta, k)) as tf.Scalar, reconstruction: rec as tf.Scalar, kl: k as tf.Scalar };
}

/** A layer summary for the model card: "conv2d 32 3x3/1", "dense 16", ... */
export function describeModel(model: tfl.LayersModel): string[] {
  return model.layers
    .filter((l) => !['InputLayer', 'ReLU', 'Activation', 'Flatten'].includes(l.getClassName()))
    .map((l) => {
      const c = l.getConfig() as Record<string, unknown>;
      const cls = l.getClassName();
      if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
        const k = c.kernelSize as number[];
        const s = c.strides as number[];
        return `${cls === 'Conv2D' ? 'conv2d' : 'conv2dTranspose'} ${c.filters} ${k[0]}x${k[1]}/${s[0]}`;
      }
      if (cls === 'Dense') return `dense ${c.units} (${l.name})`;
      if (cls === 'Reshape') return `reshape ${(c.targetShape as number[]).join('x')}`;
      if (cls === 'BatchNormalization') return 'batchnorm';
      return cls;
    });
}
