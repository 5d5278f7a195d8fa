import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { betaText, parseManifest } from '../../lib/bundle.ts';
import { ByteProgress, type ProgressSnapshot } from '../../site/scripts/engine/progress.ts';
import { closingFacts, datasetFact, decoderBytes, decoderFact, formatDuration, lossFact, trainingFact } from '../../site/scripts/studio/facts.ts';
import { extendHook, liveFields } from '../../site/scripts/studio/hook.ts';
import { downloadPercent, downloadText } from '../../site/scripts/studio/loader.ts';
import { startFailureNotice } from '../../site/scripts/studio/notice.ts';
import { camelCase, capitalise, deferred, errorMessage } from '../../site/scripts/studio/page-kit.ts';
import { liveStatusText, Throttle } from '../../site/scripts/studio/status.ts';
import { DecodeTimings } from '../../site/scripts/studio/timings.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const manifestOf = (id: string) => parseManifest(JSON.parse(readFileSync(join(ROOT, 'public/models', id, 'manifest.json'), 'utf8')));
const digits = manifestOf('digits');
const faces = manifestOf('faces');

describe('the status line (site/scripts/studio/status.ts)', () => {
  it('adds the live mean per image to the engine sentence once there is one', () => {
    expect(liveStatusText('Decoding on WebGL (GPU).', 3.14159, 'face')).toBe('Decoding on WebGL (GPU). 3.1 ms per face.');
    expect(liveStatusText('Decoding on WebGL (GPU).', 12, 'decode')).toBe('Decoding on WebGL (GPU). 12.0 ms per decode.');
    expect(liveStatusText('Decoding on WebGL (GPU).', NaN, 'face')).toBe('Decoding on WebGL (GPU).');
  });

  it('lets an update through at most every interval, unless forced', () => {
    const t = new Throttle(500);
    expect(t.pass(1000)).toBe(true);
    expect(t.pass(1200)).toBe(false);
    expect(t.pass(1499)).toBe(false);
    expect(t.pass(1500)).toBe(true);
    expect(t.pass(1600, true)).toBe(true);
    // The forced update counts: the next one waits from it.
    expect(t.pass(2050)).toBe(false);
    expect(t.pass(2100)).toBe(true);
  });
});

describe('decode timings (site/scripts/studio/timings.ts)', () => {
  it('counts every decode and averages the most recent ones', () => {
    const t = new DecodeTimings(3);
    expect(t.count).toBe(0);
    expect(t.mean()).toBeNaN();
    t.record(10);
    t.record(20);
    expect(t.mean()).toBe(15);
    t.record(30);
    t.record(40);
    expect(t.count).toBe(4);
    expect(t.mean()).toBe(30);
  });

  it('keeps the last 100 by default', () => {
    const t = new DecodeTimings();
    for (let i = 1; i <= 150; i++) t.record(i);
    expect(t.count).toBe(150);
    expect(t.mean()).toBe(100.5);
  });
});

describe('notices (site/scripts/studio/notice.ts)', () => {
  it('says a studio could not start, and offers a retry only while one can work', () => {
    expect(startFailureNotice('faces', 'the model could not be downloaded: HTTP 503', true)).toEqual({
      title: 'The faces studio could not start',
      text: 'The model could not be downloaded: HTTP 503. Check the connection and try again.',
    });
    expect(startFailureNotice('digits', 'the digits model has 3 latent dimensions', false)).toEqual({
      title: 'The digits studio could not start',
      text: 'The digits model has 3 latent dimensions. Reload the page to try again.',
    });
  });
});

describe('the download bar (site/scripts/studio/loader.ts)', () => {
  const snapshots: ProgressSnapshot[] = [];
  const progress = new ByteProgress((s) => snapshots.push(s));

  it('says what downloads, how much of how much, as a whole percentage', () => {
    expect(downloadText({ loaded: 0, total: 0, fraction: null })).toBe('Downloading the model…');
    expect(downloadPercent({ loaded: 0, total: 0, fraction: null })).toBe(0);
    progress.expect('decoder/model.json', 4743);
    progress.expect('decoder/group1-shard1of1.bin', 408068);
    progress.started('decoder/model.json', null);
    progress.add('decoder/model.json', 4743);
    const s = progress.snapshot();
    expect(downloadPercent(s)).toBe(1);
    expect(downloadText(s)).toBe('Downloading the model — 4.7 kB of 413 kB');
    expect(downloadText(s, 'the encoder and decoder')).toBe('Downloading the encoder and decoder — 4.7 kB of 413 kB');
    progress.add('decoder/group1-shard1of1.bin', 408068);
    expect(downloadPercent(snapshots[snapshots.length - 1]!)).toBe(100);
  });
});

describe('page helpers (site/scripts/studio/page-kit.ts)', () => {
  it('turns ids into element-table keys', () => {
    expect(camelCase('score-rec')).toBe('scoreRec');
    expect(camelCase('morph-t-out')).toBe('morphTOut');
    expect(camelCase('z1')).toBe('z1');
  });

  it('words errors for a sentence', () => {
    expect(capitalise('the link is broken')).toBe('The link is broken');
    expect(capitalise('')).toBe('');
    expect(errorMessage(new Error('no WebGL'))).toBe('no WebGL');
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(null)).toBe('null');
  });

  it('settles a ready promise from outside, without an unhandled rejection', async () => {
    const ok = deferred();
    ok.resolve();
    await expect(ok.promise).resolves.toBeUndefined();
    const bad = deferred();
    bad.reject(new Error('no model'));
    await expect(bad.promise).rejects.toThrow('no model');
  });
});

describe('test hooks (site/scripts/studio/hook.ts)', () => {
  it('reads the state when asked, not when the hook was made', () => {
    const state = { runs: 0, threshold: 120.5, hidden: 'x' };
    const hook = extendHook({ ready: Promise.resolve() }, liveFields(state, ['runs', 'threshold']));
    expect(hook.runs).toBe(0);
    state.runs = 3;
    state.threshold = 99;
    expect(hook.runs).toBe(3);
    expect(hook.threshold).toBe(99);
    expect('hidden' in hook).toBe(false);
  });

  it('keeps getters as getters when fields are added', () => {
    let n = 1;
    const base = {
      get count() {
        return n;
      },
    };
    const hook = extendHook(base, {
      get double() {
        return 2 * n;
      },
    });
    n = 5;
    expect(hook.count).toBe(5);
    expect(hook.double).toBe(10);
  });
});

describe('model facts (site/scripts/studio/facts.ts)', () => {
  it('gives training time in the unit that reads best', () => {
    const seconds = [42, 89.6, 600, 5399, 5400, 7120];
    expect(seconds.map(formatDuration)).toEqual(['42 s', '90 s', '10 min', '90 min', '1.5 h', '2.0 h']);
  });

  it('describes the committed digits bundle from its manifest', () => {
    const t = digits.training;
    const test = digits.metrics.test;
    expect(datasetFact(digits)).toEqual({ label: 'Dataset', value: 'MNIST: 60,000 training, 10,000 test images' });
    expect(trainingFact(digits).value).toBe(`${t.epochs} epochs, batch ${t.batchSize}, ${betaText(t)} on ${t.backend}`);
    expect(trainingFact(digits, true).value).toBe(`${t.epochs} epochs, batch ${t.batchSize}, ${betaText(t)}, ${formatDuration(t.seconds)} on ${t.backend}`);
    expect(lossFact(digits).value).toBe(`−ELBO ${test.negElbo.toFixed(1)} = reconstruction ${test.reconstruction.toFixed(1)} + KL ${test.kl.toFixed(1)}`);
    // decoder/model.json and its one weights shard, from the manifest's size table.
    expect(decoderBytes(digits)).toBe(digits.files!['decoder/model.json']! + digits.files!['decoder/group1-shard1of1.bin']!);
    expect(decoderFact(digits).value).toMatch(/^[\d,]+ parameters, \d+ kB$/);
  });

  it('ends with the version and, where listed, the decoder layers', () => {
    expect(closingFacts(faces)[0]).toEqual({ label: 'Model version', value: faces.version, style: 'mono' });
    expect(closingFacts(faces)[1]).toEqual({ label: 'Decoder layers', value: faces.architecture!.decoder.join(' → '), style: 'wide' });
    expect(closingFacts({ ...faces, architecture: undefined })).toHaveLength(1);
    expect(decoderFact({ ...faces, architecture: undefined, files: undefined }).value).toBe('layers model');
  });
});
