/**
 * The anomaly page: a drawing pad (mouse, pen, touch), clickable test images,
 * and the verdict. Strokes are kept as vectors and rendered again MNIST-style
 * (mnist-preprocess.ts) for the model; the VAE runs in the browser
 * (vae-runner.ts) and the score is compared with the threshold the build
 * calibrated on MNIST test digits. This file only wires the modules beside it.
 */
import { engineSentence } from '../../engine/backend-choice.ts';
import { LatestOnly } from '../../engine/latest-only.ts';
import { errorMessage } from '../../studio/page-kit.ts';
import { studioBase } from '../../studio/shell.ts';
import { parseAnomalyExamples, usesMetricsOf } from '../../../../lib/uses.ts';
import { fetchBundleJson, loadManifestFor, VaeRunner } from '../vae-runner.ts';
import { anomalyElements } from './elements.ts';
import { bindExamples, enableExamples } from './examples.ts';
import { anomalyHook, type AnomalyHook } from './hook.ts';
import { bindPad, requestDrawingScore } from './pad.ts';
import { newAnomalyState, type AnomalyPage } from './page.ts';
import { startRunner } from './runner.ts';
import { score } from './verdict.ts';

export type { AnomalyHook } from './hook.ts';

function fail(p: AnomalyPage, title: string, e: unknown): void {
  console.error(e);
  p.shell.showNotice({ kind: 'error', title, text: errorMessage(e) });
}

function createPage(root: HTMLElement): AnomalyPage {
  const p: AnomalyPage = {
    ...newAnomalyState(Number(root.dataset.threshold)),
    ...studioBase(root, 'digits', anomalyElements(root), { downloading: 'the encoder and decoder' }),
    runner: null,
    scheduler: new LatestOnly((job) => score(p, job), undefined, (e) => fail(p, 'Scoring failed', e)),
  };
  return p;
}

async function start(p: AnomalyPage): Promise<void> {
  const { shell, el } = p;
  bindPad(p);
  bindExamples(p);
  const stage = await loadManifestFor(
    p.modelId,
    (m) => {
      const u = usesMetricsOf(m);
      return u ? [u.files.anomalyExamples] : [];
    },
    shell.onProgress,
  );
  const uses = usesMetricsOf(stage.manifest);
  p.uses = uses;
  if (!uses) throw new Error(`the ${p.modelId} model has no anomaly threshold yet; run npm run evaluate -- --bundle public/models/${p.modelId}`);
  // The manifest served now wins over the one the page was built with (they differ only mid-deployment).
  p.threshold = uses.anomaly.threshold;
  el.threshold.textContent = p.threshold.toFixed(1);
  const examplesJson = fetchBundleJson(stage, uses.files.anomalyExamples, 'the example images');
  const [artifacts, ex] = await Promise.all([VaeRunner.fetchArtifacts(stage), examplesJson]);
  p.examples = parseAnomalyExamples(ex);
  const { height, width, channels } = artifacts.manifest.image;
  const blank = new Float32Array(height * width * channels);
  const { runner, report } = await startRunner(shell.request, artifacts, blank);
  p.runner = runner;
  shell.backend = report.used;
  p.measured = report.measured.map(({ name, ms }) => ({ name, ms }));
  // Warm-up: the first run compiles shaders or kernels; do it before the visitor waits on it.
  await runner.run(blank);
  shell.loaded();
  const sentence = engineSentence({ ...report, where: 'page', workerProblem: null }, shell.request, 'Running the encoder and decoder', { figures: true });
  shell.setStatus(`${sentence} Nothing you draw leaves this page.`);
  p.root.dataset.backend = report.used;
  enableExamples(p);
  if (p.strokes.length) requestDrawingScore(p);
}

export function startAnomalyPage(root: HTMLElement): AnomalyHook {
  const p = createPage(root);
  window.__anomaly = anomalyHook(p);
  start(p).then(p.shell.ready.resolve, (e: unknown) => {
    p.shell.loaded();
    p.shell.setStatus('');
    fail(p, 'The model could not start', e);
    p.shell.ready.reject(e);
  });
  return window.__anomaly;
}
