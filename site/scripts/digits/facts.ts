/** "About this model" on the digits page: the shared rows, plus what the map shows. */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { closingFacts, datasetFact, decoderFact, lossFact, renderFacts, trainingFact, type Fact } from '../studio/facts.ts';
import type { DigitsStudio } from './studio.ts';

/** `points`: how many encoded test digits the map holds. */
export function digitsFacts(m: BundleManifest, points: number): Fact[] {
  return [
    datasetFact(m),
    { label: 'Map', value: `${points.toLocaleString('en')} encoded test digits (encoder means)` },
    trainingFact(m, true),
    lossFact(m),
    decoderFact(m),
    ...closingFacts(m),
  ];
}

export function buildFacts(s: DigitsStudio, m: BundleManifest, points: number): void {
  renderFacts(s.el.facts, digitsFacts(m, points), 'facts__wide');
}
