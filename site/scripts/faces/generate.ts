/**
 * New faces: a draw from the bundle's learned prior (sampled where the
 * decoder runs), or from N(0, T²I) without one, at the temperature the
 * slider sets.
 */
import { quantizeLatent } from '../../../lib/latent-url.ts';
import { setFace } from './recent.ts';
import { drawBase } from './sampling.ts';
import { currentEntry, currentSliders, type FacesStudio } from './studio.ts';
import { track } from './face.ts';
import { settleFace } from './settle.ts';

/** A new base point from the learned prior, or N(0, T²I) without one. */
export function newBase(s: FacesStudio, latentDim: number): Promise<Float32Array> {
  return drawBase(latentDim, s.temperature, s.random, s.prior && s.shell.engine ? s.shell.engine.sampler : null);
}

/** A new base point, settled first when settling is on and ready (for uses that show no "as drawn" step, like a morph's end). */
export async function newSettledBase(s: FacesStudio, latentDim: number): Promise<Float32Array> {
  const base = await newBase(s, latentDim);
  const engine = s.shell.engine;
  if (!s.settleTrips || !s.settleReady || !engine) return base;
  return quantizeLatent(await engine.sampler.settle(base, s.settleTrips, s.prior?.settleStep).catch(() => base));
}

/** What the live region adds when a steered face made way for a new one. */
export function keptSteeringText(previousSerial: number): string {
  return ` Sliders back at 0; Face ${previousSerial} keeps its steering in the recent faces.`;
}

/**
 * A new face is a new draw from the prior, unsteered: the visitor sees what
 * the model samples at this temperature, then the same face settled
 * (settle.ts) when settling is on. The steered face it replaces keeps
 * its sliders in the recent strip, and the live region says so.
 */
export function generate(s: FacesStudio): void {
  if (!s.manifest) return;
  const previous = currentEntry(s);
  const steered = currentSliders(s).length > 0;
  void track(
    s,
    newBase(s, s.manifest.latentDim).then(async (b) => {
      await setFace(s, { base: b, sliders: [] }, 'new');
      if (steered && previous) s.el.faceLive.textContent += keptSteeringText(previous.serial);
      // A draw that repeats a face the strip keeps (likely at temperature 0) is that face: settle it unless it was.
      if (!currentEntry(s)?.drawn) void settleFace(s, s.currentSerial, s.base);
    }),
  );
}

export function setTemperature(s: FacesStudio, t: number): void {
  s.temperature = t;
  s.el.temperature.value = String(t);
  s.el.temperatureOut.value = t.toFixed(2);
}

export function bindGenerate(s: FacesStudio): void {
  s.el.generate.disabled = false;
  s.el.generate.addEventListener('click', () => generate(s));
  s.el.temperature.disabled = false;
  s.el.temperature.addEventListener('input', () => setTemperature(s, Number(s.el.temperature.value)));
}
