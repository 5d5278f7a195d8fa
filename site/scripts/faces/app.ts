/**
 * The faces studio: loads the face bundle's decoder, starts a backend, warms
 * it up, then generates, steers (attribute vectors from the edge API), morphs
 * and shares faces. All decoding happens in the visitor's browser. This file
 * only wires the feature modules beside it over one FacesStudio object.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { loadDecoderArtifacts, loadManifest, loadPrior, type ManifestStage } from '../engine/bundle-loader.ts';
import { LatestOnly } from '../engine/latest-only.ts';
import { pixelContext } from '../engine/pixel-canvas.ts';
import { capitalise, errorMessage } from '../studio/page-kit.ts';
import { studioBase } from '../studio/shell.ts';
import { arrivalFace, showLinkNotice } from './arrival.ts';
import { bindDownloads, fillPngSizes } from './downloads.ts';
import { facesElements } from './elements.ts';
import { showFace } from './face.ts';
import { buildFacts } from './facts.ts';
import { bindGenerate, newBase, setTemperature } from './generate.ts';
import { bindSettle, startSettling } from './settle.ts';
import { facesHook, type FacesHook } from './hook.ts';
import { renderMorph, startMorph } from './morph.ts';
import { MorphPlayer } from './morph-player.ts';
import { setFace } from './recent.ts';
import { defaultTemperature, temperatureHint } from './sampling.ts';
import { bindShare } from './share.ts';
import { canonicalSliders, cryptoRandom, type Face } from './state.ts';
import { bindSteer, ensureMix, loadAttributes } from './steer.ts';
import { newFacesState, mixFaceOf, type FacesStudio } from './studio.ts';

export type { FacesHook, FacesMemory } from './hook.ts';

/** A download that failed, in the words the notice uses. */
function downloadFailed(e: unknown): Error {
  return new Error(`the model could not be downloaded: ${errorMessage(e)}`);
}

function createStudio(root: HTMLElement): FacesStudio {
  const base = studioBase(root, 'faces', facesElements(), { perWhat: 'face', stuck: 'the face stops changing' });
  const trouble = base.shell.reportTrouble;
  const s: FacesStudio = {
    ...newFacesState(),
    ...base,
    random: cryptoRandom(),
    mix: null,
    faceScheduler: new LatestOnly((job) => showFace(s, job), undefined, trouble),
    player: new MorphPlayer((t) => renderMorph(s, t), Number(base.el.morphDuration.value) || 3000, undefined, trouble),
    thumbs: new Map(),
    faceCtx: pixelContext(base.el.face),
    morphCtx: pixelContext(base.el.morph),
    faceImage: null,
    morphImage: null,
  };
  return s;
}

/** The decode engine, once: the decoder's files (already downloading), then the backends timed and warmed up. */
async function startEngine(s: FacesStudio, m: BundleManifest, artifactsLoading: ReturnType<typeof loadDecoderArtifacts>): Promise<void> {
  let artifacts;
  try {
    artifacts = await artifactsLoading;
  } catch (e) {
    throw downloadFailed(e);
  }
  await s.shell.startEngine(artifacts, m, { noticeFallback: true });
}

/** Canvases and images at the decoder's size. */
function sizeCanvases(s: FacesStudio, m: BundleManifest): void {
  const { width, height } = m.image;
  for (const c of [s.el.face, s.el.morph, s.el.ends.a.canvas, s.el.ends.b.canvas]) {
    c.width = width;
    c.height = height;
  }
  s.faceImage = new ImageData(width, height);
  s.morphImage = new ImageData(width, height);
  fillPngSizes(s, width);
}

/** The first face: the link's, once its steering is known (a link restores exactly what was shared), else a new draw. */
async function showFirstFace(s: FacesStudio, m: BundleManifest, asked: Face | null, steering: Promise<unknown> | null): Promise<void> {
  let first: Face = asked ?? { base: await newBase(s, m.latentDim), sliders: [] };
  sizeCanvases(s, m);
  // The engine warmed the decoder up (shaders compiled) before it reported ready: no face appears before that.
  if (steering) {
    try {
      await steering;
    } catch (e) {
      showLinkNotice(s, { kind: 'warning', title: 'The sliders in this link could not be applied', text: `${capitalise(errorMessage(e))}. Showing the face without them.` });
      first = { base: first.base, sliders: [] };
    }
  }
  await setFace(s, first, 'arrival');
}

async function start(s: FacesStudio): Promise<void> {
  const { shell } = s;
  shell.begin();
  let stage: ManifestStage;
  try {
    stage = await loadManifest(s.modelId, shell.onProgress);
  } catch (e) {
    throw downloadFailed(e);
  }
  const m = stage.manifest;
  s.manifest = m;
  ensureMix(s, m);
  const artifactsLoading = shell.decoder ? null : loadDecoderArtifacts(stage);
  artifactsLoading?.catch(() => {});
  const priorLoading = s.prior
    ? Promise.resolve(s.prior)
    : loadPrior(stage).catch((e: unknown) => {
        s.priorProblem = errorMessage(e);
        console.warn(`The learned prior did not load: ${s.priorProblem}`);
        return null;
      });
  if (!s.prior) setTemperature(s, defaultTemperature(m));
  if (!s.attributes) await loadAttributes(s);
  buildFacts(s, m);

  // A link is judged as soon as the manifest and the attribute list are in, while the decoder still downloads.
  const asked = arrivalFace(s, m);
  const firstSliders = canonicalSliders(asked?.sliders ?? [], s.order);
  const steering = firstSliders.length && asked ? s.mix!.vector(firstSliders, asked.keep ?? s.keep, mixFaceOf(s, asked.base, firstSliders)) : null;
  steering?.catch(() => {});

  if (!shell.decoder) await startEngine(s, m, artifactsLoading!);
  s.prior = await priorLoading;
  if (s.prior) shell.engine!.sampler.setPrior(s.prior);
  if (!s.settleReady) s.settleTrips = s.prior?.settle ?? 0;
  s.el.temperatureHelp.textContent = temperatureHint(m, s.prior !== null);
  buildFacts(s, m);
  await showFirstFace(s, m, asked, steering);

  bindGenerate(s);
  bindSettle(s);
  bindSteer(s);
  bindShare(s);
  bindDownloads(s);
  shell.started(s.root);

  startMorph(s);
  // After the first face: the encoder's download never holds it up. A face that came by a link keeps its exact point.
  if (!s.settleReady) void startSettling(s, stage, asked ? null : { serial: s.currentSerial, base: s.base });
}

export function startFacesStudio(root: HTMLElement): FacesHook {
  const s = createStudio(root);
  window.__faces = facesHook(s);
  // A retry can work until the decoder runs and the face has its image; after that only a reload starts cleanly.
  s.shell.run(() => start(s), { canRetry: () => !s.shell.decoder || !s.faceImage });
  return window.__faces;
}
