/**
 * "About this model": the facts a studio lists under its controls, read from
 * the bundle's manifest. The rows both studios show are built here; each
 * studio adds its own (the map, the prior, the attribute directions).
 */
import { betaText, type BundleManifest } from '../../../lib/bundle.ts';
import { formatBytes } from '../engine/progress.ts';

export interface Fact {
  label: string;
  value: string;
  /** mono: a value to read character by character (a version); wide: one that spans the list. */
  style?: 'mono' | 'wide';
}

export function datasetFact(m: BundleManifest): Fact {
  return { label: 'Dataset', value: `${m.dataset.name}: ${m.dataset.train.toLocaleString('en')} training, ${m.dataset.test.toLocaleString('en')} test images` };
}

/** `withDuration`: say how long training took ("12 min"), where the studio has room for it. */
export function trainingFact(m: BundleManifest, withDuration = false): Fact {
  const t = m.training;
  const took = withDuration ? `, ${formatDuration(t.seconds)}` : '';
  return { label: 'Training', value: `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, batch ${t.batchSize}, ${betaText(t)}${took} on ${t.backend}` };
}

export function lossFact(m: BundleManifest): Fact {
  const test = m.metrics.test;
  return {
    label: 'Test loss (nats per image)',
    value: `−ELBO ${test.negElbo.toFixed(1)} = reconstruction ${test.reconstruction.toFixed(1)} + KL ${test.kl.toFixed(1)}`,
  };
}

/** Bytes of the decoder's files (its model.json and weights), from the manifest's size table; 0 when it has none. */
export function decoderBytes(m: BundleManifest): number {
  const dir = m.decoder.slice(0, m.decoder.lastIndexOf('/') + 1);
  return Object.entries(m.files ?? {})
    .filter(([f]) => f.startsWith(dir))
    .reduce((s, [, b]) => s + b, 0);
}

export function decoderFact(m: BundleManifest): Fact {
  const bytes = decoderBytes(m);
  return { label: 'Decoder', value: `${m.architecture ? `${m.architecture.parameters.decoder.toLocaleString('en')} parameters` : 'layers model'}${bytes ? `, ${formatBytes(bytes)}` : ''}` };
}

/** The last rows: the version share links carry, and the decoder's layers when the manifest lists them. */
export function closingFacts(m: BundleManifest): Fact[] {
  const rows: Fact[] = [{ label: 'Model version', value: m.version, style: 'mono' }];
  if (m.architecture) rows.push({ label: 'Decoder layers', value: m.architecture.decoder.join(' → '), style: 'wide' });
  return rows;
}

/** "42 s", "12 min", "1.5 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Fills a <dl> with one <div><dt><dd></div> per fact; `wideClass` is the page's class for a row that spans the list. */
export function renderFacts(list: HTMLElement, facts: readonly Fact[], wideClass: string): void {
  list.replaceChildren(
    ...facts.map(({ label, value, style }) => {
      const div = document.createElement('div');
      if (style === 'wide') div.className = wideClass;
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (style === 'mono') dd.className = 'mono';
      div.append(dt, dd);
      return div;
    }),
  );
}
