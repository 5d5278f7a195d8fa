/**
 * Settling new faces (lib/settle.ts): a drawn point is shown at once, then
 * moved by the chosen number of encode–decode round trips in the decode
 * worker and shown again, clearer. The encoder is fetched after the first
 * face, so it never delays it; until it is in (or where the bundle has
 * none), faces stay as drawn and the control says why. A face that came by
 * a link is never settled: its link names an exact point.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { quantizeLatent } from '../../../lib/latent-url.ts';
import { loadEncoderArtifacts, type ManifestStage } from '../engine/bundle-loader.ts';
import { describeFace, requestShow, track } from './face.ts';
import type { FacesStudio } from './studio.ts';

/** The measured rows the build writes (training/prior-settle.ts). */
interface SettledRow {
  kind: string;
  trips?: number;
  confident: number;
  fid: number;
}

function measuredRows(m: BundleManifest): { raw: SettledRow | undefined; settled: SettledRow[] } {
  const p = m.metrics.prior as { rows?: SettledRow[]; defaultTemperature?: number } | undefined;
  const rows = p?.rows ?? [];
  const t = p?.defaultTemperature;
  return {
    raw: rows.find((r) => r.kind === 'prior' && (r as { temperature?: number }).temperature === t),
    settled: rows.filter((r) => r.kind === 'settled' && typeof r.trips === 'number'),
  };
}

/** How the shipped step differs from a plain round trip, in words (the build's measurement, training/prior-settle.ts). */
function stepText(m: BundleManifest): string {
  const st = (m.metrics.prior as { settle?: { relax?: number; correction?: unknown } } | undefined)?.settle;
  if (!st?.correction) return '';
  return `; each trip is corrected for the small drift a round trip has on real faces (towards a smile, away from glasses)${st.relax && st.relax !== 1 ? ` and taken ${st.relax} times as far, so fewer trips are needed` : ''}`;
}

export function tripsText(n: number): string {
  return `${n} round trip${n === 1 ? '' : 's'}`;
}

/** The help under the control: what a round trip does, and what the build measured at each count. */
export function settleHint(m: BundleManifest, usable: boolean, problem: string | null): string {
  const what = `A drawn point can fall between two looks (a frame half drawn, a moustache fading in). Each round trip encodes the face and decodes it again: the encoder reads it as the look it is nearest, and the next decode draws that look clearly${m.prior && usable ? stepText(m) : ''}. The face appears as drawn, then settles.`;
  if (!usable) return `${what} ${problem ? `Not available here: ${problem}.` : 'This model has no learned prior to settle.'}`;
  const { raw, settled } = measuredRows(m);
  if (!raw || settled.length === 0) return what;
  const pct = (r: SettledRow) => `${Math.round(r.confident * 100)}%`;
  const steps = settled.map((r) => `${pct(r)} after ${r.trips}`).join(', ');
  return `${what} Measured on 1,200 draws, an independent judge reads every attribute clearly on ${pct(raw)} of faces as drawn, ${steps}.`;
}

/** Offers the control: the bundle's measured count selected, and the counts a visitor can choose. */
export function bindSettle(s: FacesStudio): void {
  const select = s.el.settle;
  select.value = String(s.settleTrips);
  if (select.value !== String(s.settleTrips)) select.append(new Option(tripsText(s.settleTrips), String(s.settleTrips), true, true));
  select.disabled = !s.settleReady;
  select.addEventListener('change', () => (s.settleTrips = Number(select.value)));
}

/** Fetches the encoder and hands it to the engine; settles the first face if it was drawn (`drawn`: its serial and base). */
export function startSettling(s: FacesStudio, stage: ManifestStage, drawn: { serial: number; base: Float32Array } | null): Promise<void> {
  // Tracked, so settled() waits for the encoder and the first face's settling.
  return track(s, loadSettler(s, stage, drawn));
}

async function loadSettler(s: FacesStudio, stage: ManifestStage, drawn: { serial: number; base: Float32Array } | null): Promise<void> {
  const engine = s.shell.engine;
  if (!s.prior || !engine) return;
  try {
    const artifacts = await loadEncoderArtifacts(stage);
    if (!artifacts) throw new Error('this bundle has no encoder');
    engine.sampler.setEncoder(artifacts);
    s.settleReady = true;
  } catch (e) {
    s.settleProblem = (e as Error).message || String(e);
    console.warn(`Faces will not be settled: ${s.settleProblem}`);
  }
  s.el.settle.disabled = !s.settleReady;
  s.el.settleHelp.textContent = settleHint(stage.manifest, s.settleReady, s.settleProblem);
  if (drawn) await settleFace(s, drawn.serial, drawn.base);
}

/**
 * Settles a drawn face in place: its recent-faces entry takes the settled
 * point, and if it is still on screen, the canvas, the caption and the
 * address follow. A face replaced meanwhile is left alone.
 */
export function settleFace(s: FacesStudio, serial: number, base: Float32Array): Promise<void> {
  const trips = s.settleTrips;
  const engine = s.shell.engine;
  if (!trips || !s.settleReady || !engine) return Promise.resolve();
  return track(s, (async () => {
    let settled: Float32Array;
    try {
      settled = quantizeLatent(await engine.sampler.settle(base, trips, s.prior?.settleStep));
    } catch (e) {
      console.warn(`Face ${serial} could not be settled: ${(e as Error).message}`);
      return;
    }
    if (!s.recent.rebase(serial, base, settled)) return;
    if (s.currentSerial !== serial || s.base !== base) return;
    s.base = settled;
    s.el.faceLive.textContent += ` Settled by ${tripsText(trips)}.`;
    describeFace(s);
    await requestShow(s);
  })());
}
