/** "About this model" on the digits page: the shared rows, plus what the map shows. */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { sourceTitle, type BundleSource } from '../engine/bundle-source.ts';
import { closingFacts, datasetFact, decoderFact, lossFact, renderFacts, trainingFact, type Fact } from '../studio/facts.ts';
import type { DigitsStudio } from './studio.ts';

/** `points`: how many encoded test digits the map holds; `source`: where the model came from, said when it is not the published one. */
export function digitsFacts(m: BundleManifest, points: number, source: BundleSource | null = null): Fact[] {
  return [
    ...(source && source.kind !== 'published' ? [{ label: 'Source', value: sourceTitle(source) }] : []),
    datasetFact(m),
    { label: 'Map', value: points > 0 ? `${points.toLocaleString('en')} encoded test digits (encoder means)` : 'none: this bundle has no latent map' },
    trainingFact(m, true),
    lossFact(m),
    decoderFact(m),
    ...closingFacts(m),
  ];
}

export function buildFacts(s: DigitsStudio, m: BundleManifest, points: number): void {
  renderFacts(s.el.facts, digitsFacts(m, points, s.source), 'facts__wide');
}
