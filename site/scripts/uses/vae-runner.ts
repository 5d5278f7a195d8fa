/**
 * Encoder and decoder together in the browser: downloads both (counting bytes
 * for the progress bar, with the site's fetch wrapper), then scores an image
 * exactly as the build does (lib/anomaly.ts), on whichever backend the site's
 * runtime started. Every tensor of a run is freed before the run resolves.
 */
import { anomalyScores, type AnomalyScore } from '../../../lib/anomaly.ts';
import { parseManifest, resolveBundlePath, type BundleManifest } from '../../../lib/bundle.ts';
import { loadLayersModel, model as layersModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { countingFetch, type Fetcher } from '../engine/bundle-loader.ts';
import { ByteProgress, type ProgressSnapshot } from '../engine/progress.ts';
import type { io } from '@tensorflow/tfjs-core';
import { tf } from '../engine/tf-runtime.ts';

export interface ManifestStage {
  manifestUrl: string;
  manifest: BundleManifest;
  fetcher: Fetcher;
}

/** Fetches and checks the manifest, and announces every file still to come with its size. */
export async function loadManifestFor(modelId: string, extraFiles: (m: BundleManifest) => string[], onProgress: (s: ProgressSnapshot) => void): Promise<ManifestStage> {
  const manifestUrl = new URL(`/models/${modelId}/manifest.json`, location.href).href;
  const progress = new ByteProgress(onProgress);
  const fetcher = countingFetch(progress, manifestUrl);
  progress.expect('manifest.json', undefined);
  const res = await fetcher(manifestUrl).catch((e: Error) => {
    throw new Error(`could not fetch the model manifest (${e.message}); check the connection and reload`);
  });
  if (!res.ok) throw new Error(`the model manifest answered HTTP ${res.status}`);
  const manifest = parseManifest(await res.json(), `${modelId}/manifest.json`);
  if (!manifest.encoder) throw new Error(`the ${modelId} bundle has no encoder, so it cannot score a drawing`);
  const folders = [manifest.encoder, manifest.decoder].map((p) => p.slice(0, p.lastIndexOf('/') + 1));
  const modelFiles = Object.keys(manifest.files ?? {}).filter((f) => folders.some((dir) => dir !== '' && f.startsWith(dir)));
  for (const name of [...modelFiles, ...extraFiles(manifest)]) progress.expect(name, manifest.files?.[name]);
  return { manifestUrl, manifest, fetcher };
}

export async function fetchBundleJson(stage: ManifestStage, relative: string, what: string): Promise<unknown> {
  const url = resolveBundlePath(stage.manifestUrl, relative);
  const res = await stage.fetcher(url);
  if (!res.ok) throw new Error(`${what} answered HTTP ${res.status} at ${new URL(url).pathname}`);
  return res.json();
}

export interface VaeArtifacts {
  encoder: io.ModelArtifacts;
  decoder: io.ModelArtifacts;
  manifest: BundleManifest;
}

export interface VaeRun extends AnomalyScore {
  /** The input as the model saw it and its reconstruction decoder(mu), each height x width values in [0, 1]. */
  input: Float32Array;
  reconstructed: Float32Array;
  mean: Float32Array;
  milliseconds: number;
}

export class VaeRunner {
  private readonly logits: LayersModel;

  private constructor(
    private readonly encoder: LayersModel,
    private readonly decoder: LayersModel,
    readonly manifest: BundleManifest,
  ) {
    // The decoder ends in a sigmoid; the score needs the logits before it, as training does.
    const last = decoder.layers[decoder.layers.length - 1]!;
    const config = last.getConfig() as { activation?: string };
    if (last.getClassName() !== 'Activation' || config.activation !== 'sigmoid') {
      throw new Error('the decoder does not end in a sigmoid activation, so its logits are unknown');
    }
    this.logits = layersModel({ inputs: decoder.inputs, outputs: last.input as SymbolicTensor });
  }

  /** Downloads both networks once (topology and weights), so they can be built on several backends without refetching. */
  static async fetchArtifacts(stage: ManifestStage): Promise<VaeArtifacts> {
    const { manifest, manifestUrl, fetcher } = stage;
    const fetchOne = async (relative: string, what: string) => {
      try {
        return await tf.io.http(resolveBundlePath(manifestUrl, relative), { fetchFunc: fetcher }).load!();
      } catch (e) {
        throw new Error(`the ${what} could not be loaded (${(e as Error).message})`);
      }
    };
    const [encoder, decoder] = await Promise.all([fetchOne(manifest.encoder!, 'encoder'), fetchOne(manifest.decoder, 'decoder')]);
    return { encoder, decoder, manifest };
  }

  /** Builds both networks on the active backend; call once a backend runs, since the weights become tensors on it. */
  static async build(a: VaeArtifacts): Promise<VaeRunner> {
    const [encoder, decoder] = await Promise.all([loadLayersModel({ load: async () => a.encoder }), loadLayersModel({ load: async () => a.decoder })]);
    return new VaeRunner(encoder, decoder, a.manifest);
  }

  /** Frees both networks' weights on their backend. */
  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }

  /** Encodes one image (height x width grey values in [0, 1]), decodes its mean, and scores it. */
  async run(input: Float32Array): Promise<VaeRun> {
    const { height, width, channels } = this.manifest.image;
    if (input.length !== height * width * channels) throw new Error(`expected ${height * width * channels} pixels, got ${input.length}`);
    const t0 = performance.now();
    const [mean, logVar, logits] = tf.tidy(() => {
      const [m, lv] = this.encoder.predict(tf.tensor4d(input, [1, height, width, channels])) as tf.Tensor[];
      return [m!, lv!, this.logits.predict(m!) as tf.Tensor];
    });
    try {
      const [m, lv, l] = (await Promise.all([mean!.data(), logVar!.data(), logits!.data()])) as Float32Array[];
      const score = anomalyScores(input, l!, m!, lv!, 1)[0]!;
      const reconstructed = Float32Array.from(l!, (v) => 1 / (1 + Math.exp(-v)));
      return { ...score, input, reconstructed, mean: m!, milliseconds: performance.now() - t0 };
    } finally {
      tf.dispose([mean!, logVar!, logits!]);
    }
  }
}
