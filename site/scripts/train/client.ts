/**
 * The page's side of the training worker: starts it, sends it typed messages
 * (protocol.ts), hands every report to one listener, and turns the two
 * questions with an answer (export, memory) into promises. A worker that
 * dies (a chunk that did not load, an uncaught error) rejects what waits.
 */
import type { BackendRequest } from '../engine/backend-choice.ts';
import type { FromTrainer, ToTrainer } from './protocol.ts';

export type ReadyMessage = Extract<FromTrainer, { type: 'ready' }>;
export type ExportedFile = Extract<FromTrainer, { type: 'exported' }>['files'][number];
/** What the listener hears: everything but the answers to export and memory. */
export type TrainerReport = Exclude<FromTrainer, { type: 'exported' | 'memory' | 'ready' | 'init-failed' }>;

type Answer = Extract<FromTrainer, { type: 'exported' | 'memory' }>;

export function startTrainerWorker(): Worker {
  return new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module', name: 'latent-atelier-trainer' });
}

export class TrainerClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { kind: ToTrainer['type']; resolve: (m: Answer) => void; reject: (e: Error) => void }>();
  private onReady: ((m: ReadyMessage) => void) | null = null;
  private onInitFailed: ((e: Error) => void) | null = null;
  private dead: Error | null = null;

  /**
   * `onReport`: every progress, map, grid, state and failure report.
   * `onCrash`: the worker stopped for good, with the reason in words.
   */
  constructor(
    private readonly worker: Worker,
    private readonly onReport: (m: TrainerReport) => void,
    private readonly onCrash: (e: Error) => void,
  ) {
    worker.addEventListener('message', (e: MessageEvent<FromTrainer>) => this.receive(e.data));
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      this.die(new Error(`the training worker stopped (${e.message || 'its script did not load'})`));
    });
    worker.addEventListener('messageerror', () => this.die(new Error('the training worker sent a message the page could not read')));
  }

  /** Hands the dataset (transferred: the page keeps nothing) to the worker; resolves once it has chosen a backend. */
  init(data: ArrayBuffer, backend: BackendRequest, gridSize: number): Promise<ReadyMessage> {
    return new Promise<ReadyMessage>((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.onReady = resolve;
      this.onInitFailed = reject;
      this.send({ type: 'init', data, backend: { forced: backend.forced, problem: backend.problem }, gridSize }, [data]);
    });
  }

  send(msg: ToTrainer, transfer: Transferable[] = []): void {
    if (this.dead) return;
    this.worker.postMessage(msg, transfer);
  }

  /** The trained model as bundle files. */
  async exportFiles(): Promise<ExportedFile[]> {
    const answer = await this.ask((id) => ({ type: 'export', id }));
    if (answer.type !== 'exported') throw new Error('the training worker answered an export with something else');
    return answer.files;
  }

  /** tf.memory() in the worker now. */
  async memory(): Promise<{ tensors: number; bytes: number }> {
    const answer = await this.ask((id) => ({ type: 'memory', id }));
    if (answer.type !== 'memory') throw new Error('the training worker answered a memory question with something else');
    return { tensors: answer.tensors, bytes: answer.bytes };
  }

  terminate(): void {
    this.worker.terminate();
    this.die(new Error('the training worker was stopped'), false);
  }

  private ask(make: (id: number) => ToTrainer): Promise<Answer> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const msg = make(id);
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.set(id, { kind: msg.type, resolve, reject });
      this.send(msg);
    });
  }

  private receive(m: FromTrainer): void {
    if (m.type === 'exported' || m.type === 'memory') {
      this.waiting.get(m.id)?.resolve(m);
      this.waiting.delete(m.id);
    } else if (m.type === 'ready') {
      this.onReady?.(m);
      this.onReady = this.onInitFailed = null;
    } else if (m.type === 'failed' && m.message.startsWith('export:') && this.exportFailed(m.message)) {
      return;
    } else if (m.type === 'init-failed') {
      this.onInitFailed?.(new Error(m.message));
      this.onReady = this.onInitFailed = null;
    } else {
      this.onReport(m);
    }
  }

  /**
   * The worker answers a failed export with a 'failed' report whose message
   * starts "export:" (the protocol gives it no id): it fails the oldest export waiting.
   */
  private exportFailed(message: string): boolean {
    const entry = [...this.waiting].find(([, w]) => w.kind === 'export');
    if (!entry) return false;
    this.waiting.delete(entry[0]);
    entry[1].reject(new Error(message.replace(/^export:\s*/, '')));
    return true;
  }

  /** No more messages either way; `report`: tell the page (not when it stopped the worker itself). */
  private die(e: Error, report = true): void {
    if (this.dead) return;
    this.dead = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    if (this.onInitFailed) this.onInitFailed(e);
    else if (report) this.onCrash(e);
    this.onReady = this.onInitFailed = null;
  }
}
