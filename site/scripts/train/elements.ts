/** The training page's elements, looked up once: every id the page's scripts use is here. */
import { byId, buttonsById, canvasesById, elementsById, inputsById, selectsById } from '../studio/page-kit.ts';
import { shellElements } from '../studio/shell.ts';

/** Keyed by id in camelCase (#map-canvas is mapCanvas), but for the few named otherwise. */
export function trainElements() {
  return {
    shell: shellElements({ status: 'status', statusText: 'status-text', notice: 'notice', loader: 'loader' }),
    ...buttonsById(['start', 'pause', 'reset', 'explore', 'download']),
    ...inputsById(['beta', 'warmup']),
    ...selectsById(['lr', 'epochs']),
    betaOut: byId<HTMLOutputElement>('beta-out'),
    ...canvasesById(['map-canvas', 'curves-canvas', 'grid-canvas']),
    ...elementsById([
      'map',
      'curves',
      'legend',
      'backend-text',
      'away',
      'export-state',
      'grid-caption',
      'epoch-hint',
      'value-loss',
      'value-reconstruction',
      'value-kl',
      'value-beta',
      'stat-step',
      'stat-epoch',
      'stat-rate',
      'stat-eta',
      'stat-tensors',
      'stat-state',
    ]),
  };
}

export type TrainElements = ReturnType<typeof trainElements>;
