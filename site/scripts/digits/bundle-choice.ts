/**
 * Which model the digits studio shows: the published one, or the bundle the
 * address asks for with `?bundle=` (engine/bundle-source.ts). A bundle that
 * cannot be used (a malformed parameter, no model saved under that name, a
 * folder that is not there, a model that is not 2-D) is told in the notice,
 * and the published model is shown instead, the rest of the link kept.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import type { ManifestStage } from '../engine/bundle-loader.ts';
import { loadSourceManifest, readBundleParam, sourceTitle, type BundleSource } from '../engine/bundle-source.ts';
import type { Notice } from '../studio/notice.ts';
import { capitalise, errorMessage } from '../studio/page-kit.ts';
import type { DigitsStudio } from './studio.ts';

export interface ChosenBundle {
  stage: ManifestStage;
  source: BundleSource;
  /** Why the bundle asked for is not the one shown, or null. */
  notice: Notice | null;
}

/** Why this studio cannot draw the model, or null: it draws a 2-D plane. */
export function planeProblem(m: BundleManifest, what: string): string | null {
  return m.latentDim === 2 ? null : `${what} has ${m.latentDim} latent dimensions; the digits studio draws a 2-D plane`;
}

/** The address without `?bundle=` (what the page shows instead), every other parameter kept. */
export function withoutBundle(search: string): string {
  const params = new URLSearchParams(search);
  params.delete('bundle');
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}

/** The address that opens bundle `value`: a point pinned on another model means nothing there, so `z` and `a` go. */
export function bundleSearch(search: string, value: string): string {
  const params = new URLSearchParams(search);
  for (const key of ['z', 'a', 'bundle']) params.delete(key);
  const rest = params.toString();
  return `?bundle=${value}${rest ? `&${rest}` : ''}`;
}

/** The published model, with the notice saying why the bundle asked for is not shown. */
async function fallBack(s: DigitsStudio, problem: string): Promise<ChosenBundle> {
  history.replaceState(history.state, '', `${location.pathname}${withoutBundle(location.search)}${location.hash}`);
  const source: BundleSource = { kind: 'published', modelId: s.modelId };
  const stage = await loadSourceManifest(source, s.shell.onProgress);
  const text = `${capitalise(problem)}. Showing the published ${s.modelId} model instead.`;
  return { stage, source, notice: { kind: 'error', title: 'The model in this address could not be opened', text } };
}

/** The manifest of the model to show; any problem with the bundle asked for falls back to the published model. */
export async function openChosenBundle(s: DigitsStudio): Promise<ChosenBundle> {
  const { source, problem } = readBundleParam(location.search, location.href, s.modelId);
  if (problem) return fallBack(s, problem);
  if (source.kind === 'published') return { stage: await loadSourceManifest(source, s.shell.onProgress), source, notice: null };
  try {
    const stage = await loadSourceManifest(source, s.shell.onProgress);
    const title = sourceTitle(source);
    const flat = planeProblem(stage.manifest, `the ${title[0]!.toLowerCase()}${title.slice(1)}`);
    if (flat) throw new Error(flat);
    return { stage, source, notice: null };
  } catch (e) {
    return fallBack(s, errorMessage(e));
  }
}

/** One notice from two: the bundle's problem first, then the link's. */
export function mergeNotices(first: Notice | null, second: Notice | null): Notice | null {
  if (!first || !second) return first ?? second;
  return { ...first, text: `${first.text} ${second.text}` };
}

/** Says which model the page shows, where it is not the published one. */
export function showSource(s: DigitsStudio, source: BundleSource, m: BundleManifest): void {
  s.el.modelSource.hidden = source.kind === 'published';
  s.el.modelSourceText.textContent = `${sourceTitle(source)}: “${m.title}”, version ${m.version}.`;
}
