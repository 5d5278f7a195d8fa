/**
 * The backend for the anomaly page, chosen as on the studios: forced by
 * ?backend=, else WebGL and WebAssembly each build the encoder and decoder
 * and score a blank pad a few times, and the faster is kept (plain
 * JavaScript only if neither runs). The model runs on the page's thread.
 */
import type { BackendRequest, EngineReport } from '../../engine/backend-choice.ts';
import { measureBackends, timeCalls } from '../../engine/engine-core.ts';
import { startBackend } from '../../engine/tf-runtime.ts';
import { VaeRunner, type VaeArtifacts } from '../vae-runner.ts';

export type RunnerReport = Pick<EngineReport, 'used' | 'failed' | 'measured'>;

export async function startRunner(request: BackendRequest, artifacts: VaeArtifacts, blank: Float32Array): Promise<{ runner: VaeRunner; report: RunnerReport }> {
  if (request.forced) {
    const outcome = await startBackend(request);
    return { runner: await VaeRunner.build(artifacts), report: { used: outcome.used, failed: outcome.failed, measured: [] } };
  }
  const { best, measured, failed } = await measureBackends({
    build: () => VaeRunner.build(artifacts),
    time: (r) => timeCalls(() => r.run(blank)),
    dispose: (r) => r.dispose(),
  });
  if (best) return { runner: await VaeRunner.build(artifacts), report: { used: best.name, failed, measured } };
  const outcome = await startBackend({ forced: 'cpu', problem: null }, failed);
  return { runner: await VaeRunner.build(artifacts), report: { used: outcome.used, failed: outcome.failed, measured } };
}
