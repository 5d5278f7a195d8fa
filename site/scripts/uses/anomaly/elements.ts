/** The anomaly page's elements, looked up once: every id the page's scripts use is here. */
import { byId, canvasesById, elementsById } from '../../studio/page-kit.ts';
import { shellElements } from '../../studio/shell.ts';

/** Keyed by id in camelCase (#score-rec is scoreRec), but for the few named otherwise. */
export function anomalyElements(root: HTMLElement) {
  return {
    shell: shellElements({ status: 'u-status', notice: 'anomaly-notice', loader: 'u-loader' }),
    ...canvasesById(['pad', 'seen', 'rebuilt']),
    ...elementsById(['verdict', 'score', 'score-rec', 'score-kl', 'score-rank', 'threshold']),
    clear: byId<HTMLButtonElement>('pad-clear'),
    /** The score histogram and its marker are drawn by the build; a page without them still scores. */
    marker: document.getElementById('score-marker'),
    markerLabel: document.getElementById('score-marker-label'),
    histogram: document.getElementById('score-histogram'),
    exampleButtons: [...root.querySelectorAll<HTMLButtonElement>('button[data-example]')],
  };
}

export type AnomalyElements = ReturnType<typeof anomalyElements>;
