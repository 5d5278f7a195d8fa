/** The digits page's elements, looked up once: every id the studio's scripts use is here. */
import { byId, canvasesById, elementsById } from '../studio/page-kit.ts';
import { shellElements } from '../studio/shell.ts';

/** Keyed by id in camelCase (#map-card is mapCard), but for the few named otherwise. */
export function digitsElements() {
  return {
    shell: shellElements({ status: 'status', statusText: 'status-text', notice: 'notice', loader: 'loader' }),
    ...elementsById(['map', 'map-card', 'digit-mode', 'z1', 'z2', 'neighbourhood', 'point-live', 'copy-state', 'legend', 'legend-note', 'grid-caption', 'model-source', 'model-source-text']),
    ...canvasesById(['map-points', 'map-overlay', 'digit', 'grid']),
    peek: byId<HTMLCanvasElement>('digit-peek'),
    copy: byId<HTMLButtonElement>('copy-link'),
    gridN: byId<HTMLInputElement>('grid-n'),
    gridOut: byId<HTMLOutputElement>('grid-n-out'),
    facts: byId('model-facts'),
    bundleFile: byId<HTMLInputElement>('bundle-file'),
  };
}

export type DigitsElements = ReturnType<typeof digitsElements>;
