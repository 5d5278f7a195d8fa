/** "About this model" on the faces page: the shared rows, plus the prior, the image size and the attribute directions. */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { closingFacts, datasetFact, decoderFact, lossFact, renderFacts, trainingFact, type Fact } from '../studio/facts.ts';
import { samplerFact } from './sampling.ts';
import type { FacesState, FacesStudio } from './studio.ts';

export function facesFacts(s: FacesState, m: BundleManifest): Fact[] {
  return [
    datasetFact(m),
    { label: 'Latent space', value: samplerFact(m, s.prior, s.priorProblem) },
    { label: 'Images', value: `${m.image.width} × ${m.image.height} pixels, ${m.image.channels === 3 ? 'colour' : 'grey'}` },
    trainingFact(m),
    lossFact(m),
    decoderFact(m),
    { label: 'Attribute directions', value: s.attributes ? `${s.attributes.attributes.length}, from the edge API` : 'unavailable right now' },
    ...closingFacts(m),
  ];
}

export function buildFacts(s: FacesStudio, m: BundleManifest): void {
  renderFacts(s.el.facts, facesFacts(s, m), 'faces-facts__wide');
}
