/**
 * The digits studio: loads the bundle, starts a backend, warms the decoder up,
 * then turns pointer, touch and keyboard input on the latent map into decoded
 * digits, one decode per animation frame at most. Start-up milestones are
 * left as performance marks (atelier:manifest, :backend, :model, :warm, :ready).
 * This file only wires the feature modules beside it over one DigitsStudio object.
 */
import { parseLatentMap, type BundleManifest, type LatentMap } from '../../../lib/bundle.ts';
import { loadDecoderArtifacts, loadLatentMap, type ManifestStage } from '../engine/bundle-loader.ts';
import { LatestOnly } from '../engine/latest-only.ts';
import { pixelContext } from '../engine/pixel-canvas.ts';
import { buildLegend } from '../studio/class-legend.ts';
import { studioBase } from '../studio/shell.ts';
import { mergeNotices, openChosenBundle, showSource } from './bundle-choice.ts';
import { bindBundlePicker } from './bundle-picker.ts';
import { digitsElements } from './elements.ts';
import { buildFacts } from './facts.ts';
import { digitsHook, type AtelierHook } from './hook.ts';
import { bindMap } from './map-input.ts';
import { latentExtent } from './map-transform.ts';
import { MapView } from './map-view.ts';
import { show } from './point.ts';
import { bindCopy } from './share.ts';
import { readArrival } from './share-state.ts';
import { renderGrid, startSheet } from './sheet.ts';
import { arrivalPin, newDigitsState, type DigitsStudio } from './studio.ts';

export type { AtelierHook } from './hook.ts';
export type { SheetEvent } from './studio.ts';

function createStudio(root: HTMLElement): DigitsStudio {
  const base = studioBase(root, 'digits', digitsElements(), { perWhat: 'decode', stuck: 'the digit stops following the pointer' });
  const s: DigitsStudio = {
    ...newDigitsState(),
    ...base,
    view: null,
    scheduler: new LatestOnly((z) => show(s, z), undefined, base.shell.reportTrouble),
    gridScheduler: new LatestOnly((n) => renderGrid(s, n), undefined, base.shell.reportTrouble),
    digitCtx: pixelContext(base.el.digit),
    peekCtx: pixelContext(base.el.peek),
    digitImage: null,
  };
  return s;
}

/** The manifest of the model the address asks for, and the point: a bad bundle or link is reported as soon as the manifest is in. */
async function loadModel(s: DigitsStudio): Promise<ManifestStage> {
  const { stage, source, notice: bundleNotice } = await openChosenBundle(s);
  const m = stage.manifest;
  s.manifest = m;
  s.source = source;
  performance.mark('atelier:manifest');
  if (m.latentDim !== 2) throw new Error(`the ${s.modelId} model has ${m.latentDim} latent dimensions; this studio draws a 2-D plane`);
  showSource(s, source, m);
  const { pinned, notice: linkNotice } = arrivalPin(readArrival(location.search, m));
  const notice = mergeNotices(bundleNotice, linkNotice);
  if (notice) s.shell.showNotice(notice);
  s.pinned = pinned;
  return stage;
}

/** A bundle without a latent map still decodes everywhere: the plane is drawn without test digits, and says so. */
function emptyMap(s: DigitsStudio): LatentMap {
  s.el.legendNote.textContent = 'This bundle has no latent map, so the plane shows no test digits; every point still decodes.';
  return { classes: [], z: [], label: [] };
}

/** The map of encoded test digits, its legend, and the model's facts: all drawn before the decoder is ready. */
async function drawMap(s: DigitsStudio, stage: ManifestStage): Promise<void> {
  const mapJson = await loadLatentMap(stage);
  const map = mapJson === null ? emptyMap(s) : parseLatentMap(mapJson);
  s.latentMap = map;
  s.view = new MapView(s.el.map, s.el.mapPoints, s.el.mapOverlay, map, latentExtent(map.z));
  s.view.resize();
  s.view.drawOverlay({ pinned: s.pinned, cursor: null });
  buildLegend(s.el.legend, map.label, map.classes, (label) => s.view?.highlight(label));
  buildFacts(s, stage.manifest, map.label.length);
}

function sizeCanvases(s: DigitsStudio, m: BundleManifest): void {
  const { el } = s;
  el.digit.width = el.peek.width = m.image.width;
  el.digit.height = el.peek.height = m.image.height;
  s.digitImage = new ImageData(m.image.width, m.image.height);
}

async function start(s: DigitsStudio): Promise<void> {
  const { shell, el } = s;
  // tfjs (in the worker), the manifest and then the bundle's files all load side by side.
  shell.begin();
  const stage = await loadModel(s);
  const m = stage.manifest;
  const artifactsLoading = loadDecoderArtifacts(stage);
  artifactsLoading.catch(() => {});
  await drawMap(s, stage);

  const artifacts = await artifactsLoading;
  performance.mark('atelier:model');
  await shell.startEngine(artifacts, m);
  performance.mark('atelier:backend');
  sizeCanvases(s, m);
  // The engine warmed the decoder up (shaders compiled) before it reported ready.
  performance.mark('atelier:warm');
  await show(s, s.pinned);
  bindMap(s);
  el.copy.disabled = false;
  performance.mark('atelier:ready');
  shell.started(el.map);

  startSheet(s);
}

export function startDigitsStudio(root: HTMLElement): AtelierHook {
  const s = createStudio(root);
  window.__atelier = digitsHook(s);
  bindCopy(s);
  bindBundlePicker(s);
  s.shell.run(() => start(s), { onFailure: () => s.el.map.setAttribute('aria-busy', 'false') });
  return window.__atelier;
}
