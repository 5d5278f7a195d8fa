import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, type LatentMap } from '../../lib/bundle.ts';
import { encodeShareQuery, OTHER_VERSION_TITLE } from '../../lib/latent-url.ts';
import { formatDuration } from '../../site/scripts/studio/facts.ts';
import { digitsFacts } from '../../site/scripts/digits/facts.ts';
import { peekSide } from '../../site/scripts/digits/map-input.ts';
import { gridSheet } from '../../site/scripts/digits/plane-data.ts';
import { digitLabel, neighbourhoodText, pointAnnouncement } from '../../site/scripts/digits/point.ts';
import { displayPoint, readArrival } from '../../site/scripts/digits/share-state.ts';
import { rowsPerBatch, sheetLabel } from '../../site/scripts/digits/sheet.ts';
import { arrivalPin, EventLog, newDigitsState, pinAt, samePoint, showsPinned } from '../../site/scripts/digits/studio.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const manifest = parseManifest(JSON.parse(readFileSync(join(ROOT, 'public/models/digits/manifest.json'), 'utf8')));

/** Three "0"s round (1, 1), two "1"s round (-1, -1). */
const map: LatentMap = {
  classes: ['0', '1'],
  z: [1, 1, 1.1, 1, 1, 1.1, -1, -1, -1.1, -1],
  label: [0, 0, 0, 1, 1],
};

describe('the digits studio state (site/scripts/digits/studio.ts)', () => {
  it('shows the pinned point until the pointer explores', () => {
    const s = newDigitsState();
    expect(showsPinned(s)).toBe(true);
    s.cursor = [0.5, 0.5];
    expect(showsPinned(s)).toBe(false);
    pinAt(s, [0.5, 0.5]);
    expect(s.cursor).toBeNull();
    // Pinned, but the decode of the new point has not shown yet.
    expect(showsPinned(s)).toBe(false);
    s.shown = [0.5, 0.5];
    expect(showsPinned(s)).toBe(true);
    expect(samePoint(null, null)).toBe(false);
  });

  it('keeps the last events, numbered from the start, and hands out copies', () => {
    const log = new EventLog(3);
    for (const what of ['request', 'point', 'request', 'point'] as const) log.log({ what });
    log.log({ what: 'sheet-row', n: 8, row: 2, batch: 1 });
    const list = log.list();
    expect(list.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(list[2]).toEqual({ seq: 5, what: 'sheet-row', n: 8, row: 2, batch: 1 });
    list[0]!.seq = 99;
    expect(log.list()[0]!.seq).toBe(3);
    expect(new EventLog().limit).toBe(300);
  });

  it('pins what a link asks for, and says what is wrong with a link', () => {
    const m = { version: manifest.version, latentDim: 2 };
    const z = displayPoint(1.234, -0.5);
    expect(arrivalPin(readArrival('', m))).toEqual({ pinned: [0, 0], notice: null });
    expect(arrivalPin(readArrival(`?${encodeShareQuery({ z: Float32Array.from(z), sliders: [] }, manifest.version)}`, m))).toEqual({ pinned: z, notice: null });
    const other = arrivalPin(readArrival(`?${encodeShareQuery({ z: Float32Array.from(z), sliders: [] }, 'deadbeef')}`, m));
    expect(other.pinned).toEqual(z);
    expect(other.notice).toMatchObject({ kind: 'warning', title: OTHER_VERSION_TITLE, text: expect.stringContaining('deadbeef') });
    const broken = arrivalPin(readArrival('?z=2.bad.@@', m));
    expect(broken.pinned).toEqual([0, 0]);
    expect(broken.notice).toMatchObject({ kind: 'error', title: 'This link could not be opened', text: expect.stringMatching(/ Showing the centre of the plane instead\.$/) });
  });
});

describe('the read-out (site/scripts/digits/point.ts)', () => {
  it('says what the map holds around a point', () => {
    expect(neighbourhoodText(null, [0, 0])).toBe('—');
    expect(neighbourhoodText({ classes: ['0'], z: [], label: [] }, [0, 0])).toBe('—');
    // k = 15 is more than the map holds: all five vote, three for "0".
    expect(neighbourhoodText(map, [1, 1])).toBe('mostly “0” (60% of the 5 nearest)');
    expect(neighbourhoodText(map, [3, 3])).toMatch(/^none close by \(nearest 2\.\d\d away\): the decoder is extrapolating$/);
  });

  it('names the digit and announces a point with real minus signs', () => {
    expect(digitLabel([-0.5, 1], true)).toBe('Decoded digit at z1 = −0.500, z2 = 1.000 (pinned)');
    expect(digitLabel([0, 0], false)).toBe('Decoded digit at z1 = 0.000, z2 = 0.000');
    expect(pointAnnouncement('Pinned', [1, 1], map)).toBe('Pinned z1 1.00, z2 1.00. Nearby: mostly “0” (60% of the 5 nearest).');
  });
});

describe('map input and the sheet (site/scripts/digits/map-input.ts, sheet.ts)', () => {
  it('floats the small digit away from the pointer', () => {
    expect(peekSide(300, 100, 300)).toBe('left');
    expect(peekSide(200, 100, 300)).toBe('right');
  });

  it('sizes a sheet batch to about 60 ms at the last pace, one row at least and the sheet at most', () => {
    expect(rowsPerBatch(20, 30)).toBe(2);
    expect(rowsPerBatch(20, 100)).toBe(1);
    expect(rowsPerBatch(20, 1)).toBe(20);
    expect(rowsPerBatch(8, 0)).toBe(8);
  });

  it('names the sheet by its first and last quantile', () => {
    const sheet = gridSheet(5);
    expect(sheetLabel(sheet)).toMatch(/^Grid of 5 by 5 decoded digits at the prior's quantiles, z1 from −1\.\d\d to 1\.\d\d$/);
  });
});

describe('the digits model facts (site/scripts/digits/facts.ts)', () => {
  it('lists the shared rows with the map, and says how long training took', () => {
    const facts = digitsFacts(manifest, 10_000);
    expect(facts.map((f) => f.label).slice(0, 6)).toEqual(['Dataset', 'Map', 'Training', 'Test loss (nats per image)', 'Decoder', 'Model version']);
    expect(facts[1]!.value).toBe('10,000 encoded test digits (encoder means)');
    expect(facts[2]!.value).toContain(`, ${formatDuration(manifest.training.seconds)} on ${manifest.training.backend}`);
  });
});
