/**
 * npm run bench: runs every benchmark in turn and prints one table of the
 * figures each wrote to bench/results/. Each benchmark measures its own
 * reference in the same run (the machine is shared and noisy), so the
 * ratios are what to read.
 *
 *   npm run bench [-- --quick] [-- --only wasm-train,api-load]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, 'results');

interface Bench {
  name: string;
  script: string;
  args: (quick: boolean) => string[];
  summarise: (json: unknown) => string[];
}

const BENCHES: Bench[] = [
  {
    name: 'wasm-train',
    script: 'wasm-train.ts',
    args: (quick) => (quick ? ['--quick'] : []),
    summarise: (j) => {
      const r = j as { results: { model: string; batch: number; config: string; imagesPerSecond: number }[]; torch?: Record<string, number> | null };
      return r.results.map((m) => `${m.model} b${m.batch} ${m.config}: ${m.imagesPerSecond.toFixed(1)} img/s`);
    },
  },
  {
    name: 'browser',
    script: 'browser.ts',
    args: (quick) => (quick ? ['--frames', '5'] : []),
    summarise: (j) => {
      const r = j as { runs: { model: string; backend: string; used: string; firstImageMs: number; bytesCompressed: number; decodeMs: number; morphFps: number | null }[]; summary: Record<string, { autoChose: string; autoOverBest: number; firstImageKiB: number }> };
      return [
        ...r.runs.map((x) => `${x.model} ${x.backend}→${x.used}: first image ${x.firstImageMs.toFixed(0)} ms after ${(x.bytesCompressed / 1024).toFixed(0)} KiB, ${x.decodeMs.toFixed(1)} ms/decode${x.morphFps === null ? '' : `, morph ${x.morphFps.toFixed(1)} fps`}`),
        ...Object.entries(r.summary).map(([m, s]) => `${m}: auto chose ${s.autoChose}, auto/best decode time ${s.autoOverBest}`),
      ];
    },
  },
  {
    name: 'worker-vs-page',
    script: 'worker-vs-page.ts',
    args: (quick) => (quick ? ['--rounds', '1'] : []),
    summarise: (j) => {
      const r = j as { summary: Record<string, { workerMs: number; pageMs: number; workerOverPage: number; paintedWorkerOverPage: number }> };
      return Object.entries(r.summary).map(([k, s]) => `${k}: ${s.workerMs} ms/decode in the worker vs ${s.pageMs} on the page (${s.workerOverPage}x; ${s.paintedWorkerOverPage}x painting each)`);
    },
  },
  {
    name: 'browser-train',
    script: 'browser-train.ts',
    args: (quick) => (quick ? ['--steps', '15', '--backends', 'wasm'] : ['--epoch']),
    summarise: (j) => {
      const r = j as { node: { imagesPerSecond: number }; browser: { backend: string; used: string; threads: number; imagesPerSecond: number; overNode: number }[]; epoch: { seconds: number } | null };
      return [
        `Node wasm: ${r.node.imagesPerSecond.toFixed(1)} img/s`,
        ...r.browser.map((b) => `browser ${b.backend}→${b.used} (${b.threads} thread(s)): ${b.imagesPerSecond.toFixed(1)} img/s, ${b.overNode}x Node`),
        ...(r.epoch ? [`one epoch of 10,000 in the browser: ${r.epoch.seconds.toFixed(1)} s`] : []),
      ];
    },
  },
  {
    name: 'prior-sample',
    script: 'prior-sample.ts',
    args: () => [],
    summarise: (j) => {
      const r = j as { prior: string; sampleMs: number; decodeMs: number; sampleOverDecode: number };
      return [`${r.prior}: ${r.sampleMs} ms a code vs ${r.decodeMs} ms a decode (${(100 * r.sampleOverDecode).toFixed(1)}%)`];
    },
  },
  {
    name: 'api-load',
    script: 'api-load.ts',
    args: (quick) => (quick ? ['--requests', '1000'] : []),
    summarise: (j) => [JSON.stringify(j).slice(0, 400)],
  },
];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',')) : null;
mkdirSync(RESULTS, { recursive: true });
const summary: Record<string, unknown> = { date: new Date().toISOString() };
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  console.log(`\n== ${b.name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, b.script), ...b.args(quick)], { stdio: 'inherit' });
  const file = join(RESULTS, `${b.name}.json`);
  if (run.status !== 0 || !existsSync(file)) {
    console.log(`${b.name}: failed (exit ${run.status})`);
    summary[b.name] = { error: `exit ${run.status}` };
    continue;
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  summary[b.name] = json;
  for (const line of b.summarise(json)) console.log(`  ${line}`);
}
writeFileSync(join(RESULTS, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
console.log(`\nwritten: ${join(RESULTS, 'summary.json')}`);
