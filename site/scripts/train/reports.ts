/**
 * What the page does with each of the worker's reports: keep it in the
 * page's state, mark what needs drawing (the next frame draws it), and on a
 * change of state, set the controls and say so on the status line.
 */
import { capitalise } from '../studio/page-kit.ts';
import { nameWithThreads } from './backend-text.ts';
import type { StatusState } from '../studio/status.ts';
import type { TrainerReport } from './client.ts';
import { applyControls } from './controls.ts';
import type { TrainerState } from './protocol.ts';
import { applyReport, type TrainPage } from './state.ts';
import { stateSentence } from './status.ts';

function dotFor(p: TrainPage): StatusState {
  if (p.problem && p.trainer !== 'training') return 'error';
  return p.trainer === 'paused' ? 'fallback' : 'ready';
}

/** The controls and the status line, as the state now stands. */
export function refresh(p: TrainPage): void {
  applyControls(p);
  if (p.ready && p.backend) p.shell.setStatus(stateSentence(p, nameWithThreads(p.backend, p.backend.used)), dotFor(p));
  p.painter.mark('stats');
}

/** Everything a run drew goes (a reset, or a new run about to start). */
export function clearRun(p: TrainPage): void {
  p.mapPlot.clear();
  p.gridView.clear();
  p.el.map.setAttribute('aria-label', 'Latent map of the test digits: empty until training starts');
  p.painter.mark('map', 'curves', 'stats');
}

function setTrainerState(p: TrainPage, state: TrainerState, step: number): void {
  p.trainer = state;
  p.pausing = false;
  if (state === 'idle') p.resetting = false;
  p.step = step;
  refresh(p);
}

export function onReport(p: TrainPage, m: TrainerReport): void {
  if (p.resetting && (m.type === 'progress' || m.type === 'map' || m.type === 'grid')) return;
  switch (m.type) {
    case 'progress':
      applyReport(p, m);
      p.away.reported(m.step);
      p.painter.mark('curves', 'stats');
      break;
    case 'map':
      p.map = { step: m.step, z: m.z };
      p.mapCount++;
      p.mapPlot.setCodes(m.z, performance.now());
      p.el.map.setAttribute('aria-label', `Latent map of ${(m.z.length / 2).toLocaleString('en')} test digits, coloured by their true label, after ${m.step.toLocaleString('en')} steps`);
      p.painter.mark('map');
      break;
    case 'grid':
      p.grid = m;
      p.gridCount++;
      p.mapPlot.setGridHalf(m.extent);
      p.painter.mark('grid', 'map');
      break;
    case 'state':
      setTrainerState(p, m.state, m.step);
      break;
    case 'failed': {
      p.problem = m.message;
      const text = capitalise(m.message).replace(/\.?$/, '.');
      p.shell.showNotice({ kind: 'warning', title: 'Training stopped', text: /\bstart\b/i.test(text) ? text : `${text} Press Start to train a fresh model.` });
      refresh(p);
      break;
    }
  }
}

/** The worker itself is gone: nothing more can train on this page until it is reloaded. */
export function onCrash(p: TrainPage, e: Error): void {
  console.error(e);
  p.ready = false;
  p.client = null;
  p.shell.showNotice({ kind: 'error', title: 'The trainer stopped', text: `${capitalise(e.message).replace(/\.?$/, '.')} Reload the page to train again.`, action: { label: 'Reload', run: () => location.reload() } });
  p.shell.setStatus('Not running.', 'error');
  applyControls(p);
}
