/**
 * The decode worker: tfjs and the decoder live here, off the page's main
 * thread, so pointer and slider input is handled while a frame decodes (a
 * face takes 100+ ms on a CPU backend). WebGL works here too: tfjs draws on
 * an OffscreenCanvas. Decodes are answered in order, one at a time; drawing
 * a point from the learned prior (lib/prior.ts: microseconds) is answered at
 * once, between decodes, so "New face" never waits behind a morph frame.
 * Settling a sample (settler.ts: encode–decode round trips) queues with the
 * decodes, since it runs the networks too.
 */
import type { FromWorker, ToWorker } from './decode-protocol.ts';
import type { Decoder } from './decoder.ts';
import { memoryInfo, startDecoderHere } from './engine-core.ts';
import { PriorSampler } from './prior-sampler.ts';
import { Settler } from './settler.ts';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
};

let decoder: Decoder | null = null;
let queue: Promise<void> = Promise.resolve();
const sampler = new PriorSampler();
const settler = new Settler(() => decoder);

function sample(msg: Extract<ToWorker, { type: 'sample' }>): void {
  try {
    const points = sampler.sample(msg.count, msg.temperature, msg.seed);
    scope.postMessage({ type: 'sampled', id: msg.id, points }, [points.buffer]);
  } catch (e) {
    scope.postMessage({ type: 'failed', id: msg.id, message: (e as Error).message || String(e) });
  }
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'start') {
    try {
      const started = await startDecoderHere(msg.request, msg.artifacts, msg.latentDim, msg.image, msg.blocked);
      decoder = started.decoder;
      scope.postMessage({ type: 'started', outcome: started.outcome });
    } catch (e) {
      scope.postMessage({ type: 'start-failed', message: (e as Error).message || String(e) });
    }
  } else if (msg.type === 'decode') {
    try {
      if (!decoder) throw new Error('the decoder has not started');
      const t0 = performance.now();
      const values = await decoder.decode(msg.points);
      const ms = performance.now() - t0;
      // The read-back may be a view of a larger buffer: transfer a buffer of exactly its size.
      const own = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
      scope.postMessage({ type: 'decoded', id: msg.id, values: own, ms }, [own.buffer]);
    } catch (e) {
      scope.postMessage({ type: 'failed', id: msg.id, message: (e as Error).message || String(e) });
    }
  } else if (msg.type === 'settle') {
    try {
      const points = await settler.settle(msg.points, msg.trips, msg.step);
      scope.postMessage({ type: 'settled', id: msg.id, points }, [points.buffer]);
    } catch (e) {
      scope.postMessage({ type: 'failed', id: msg.id, message: (e as Error).message || String(e) });
    }
  } else if (msg.type === 'memory') {
    scope.postMessage({ type: 'memory', id: msg.id, memory: memoryInfo() });
  }
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'prior') sampler.prior = msg.prior;
  else if (msg.type === 'encoder') settler.setEncoder(msg.artifacts);
  else if (msg.type === 'sample') sample(msg);
  else queue = queue.then(() => handle(msg));
};
