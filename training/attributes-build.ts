/**
 * The attribute step of a face bundle (npm run attributes): fit each
 * attribute's candidate directions on the training faces' codes, calibrate
 * each candidate's slider scale on training faces and keep the best, measure
 * everything on held-out faces with the independent judge, and write
 * attributes.json (format 2: unit direction, scale per side, method, probe
 * normal, group, what else an edit changes), the edit sheet and the table.
 */
import type * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTRIBUTES_FORMAT, parseAttributes, type AttributesFile, type AttributeVector, type BundleManifest } from '../lib/bundle.ts';
import type { ImageDataset } from './data/types.ts';
import { cachedJudge, type Judge } from './judge.ts';
import { trainingCodes } from './prior-build.ts';
import { encodeMeans } from './report.ts';
import { attributesVersion } from '../lib/steer.ts';
import { measureAttribute, type AttributeRow } from './attributes-measure.ts';
import { unit, type DirectionMethod, type LabelledCodes, type Probe } from './directions.ts';
import { chooseDirection, CALIBRATION_TARGET, probes, share, type MethodTrial } from './edit-calibrate.ts';
import { editFaces, groupOf, type EditFaces } from './edit-check.ts';
import { compactJson } from './export.ts';
import { updateManifest } from './manifest-writer.ts';
import { ProgressBar } from './progress.ts';
import { attributeSheet } from './attributes-sheet.ts';
import { betterMove, calibrateAffine, calibrateMove, transportOf, type CalibratedMove } from './transport-calibrate.ts';
import type { PairMoves } from './counterfactual-pairs.ts';
import { fitEditNet } from './edit-net.ts';
import { exclusiveStates, stateMeans, statesOf, stateTransports, unitProbe, type CalibratedTransport } from './state-transport.ts';

export interface AttributeBuildOptions {
  dir: string;
  manifest: BundleManifest;
  decoder: tf.LayersModel;
  judge: Judge;
  /** Training faces: all of them fit the directions; the first `calibrationFaces` calibrate the scales. */
  train: LabelledCodes;
  /** Held-out faces for the table. */
  test: LabelledCodes;
  calibrationFaces: number;
  /** Faces per side when calibrating and when measuring. */
  calibrationPerSide: number;
  testPerSide: number;
  methods: readonly DirectionMethod[];
  /** The bundle's previous vectors and their global scale, measured beside the new ones. */
  previous?: { file: AttributesFile; scale: number };
  command: string;
  only?: readonly string[];
  /** Counterfactual pairs for an attribute, where the face set can draw them (avatar sets); a network is fitted to them as a candidate add. */
  pairs?: (name: string) => Promise<PairMoves | null>;
}

export const ATTRIBUTE_DEFAULTS = { calibrationFaces: 3000, calibrationPerSide: 100, testPerSide: 300 };

function subset(c: LabelledCodes, n: number): LabelledCodes {
  const m = Math.min(n, c.n);
  return { ...c, n: m, z: c.z.subarray(0, m * c.d), labels: c.labels.subarray(0, m * c.names.length) };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

function countLabels(c: LabelledCodes, name: string): { positives: number; negatives: number } {
  const j = c.names.indexOf(name);
  let positives = 0;
  for (let i = 0; i < c.n; i++) positives += c.labels[i * c.names.length + j]! > 0 ? 1 : 0;
  return { positives, negatives: c.n - positives };
}

/** Fits, calibrates and measures every attribute the judge reads; writes the files and the manifest. */
export async function buildAttributes(o: AttributeBuildOptions): Promise<BundleManifest> {
  const names = o.judge.attributes.filter((n) => o.train.names.includes(n) && (!o.only || o.only.includes(n)));
  const fitted = probes(o.train, o.judge.attributes.filter((n) => o.train.names.includes(n)));
  const normals = new Map([...fitted].map(([n, p]) => [n, unit(p.w)]));
  console.log(`Judging the reconstructions of ${o.calibrationFaces} training and ${o.test.n} held-out faces…`);
  const calibration = editFaces(o.decoder, o.judge, subset(o.train, o.calibrationFaces));
  const heldOut = editFaces(o.decoder, o.judge, o.test);
  const states = stateSetup(o, names, calibration.codes, fitted);
  const bar = new ProgressBar({ total: names.length, label: 'attribute directions', unit: 'attr' });
  const rows: AttributeRow[] = [];
  const chosen = new Map<string, MethodTrial>();
  const transports = new Map<string, CalibratedTransport[]>();
  const affines = new Map<string, CalibratedMove>();
  for (const [k, name] of names.entries()) {
    const trials = chooseDirection(o.decoder, o.judge, calibration, o.train, name, fitted.get(name)!, o.calibrationPerSide, o.methods);
    chosen.set(name, trials[0]!);
    const from = states?.names.includes(name) ? betterTransports(trials[0]!, stateTransports(o.decoder, o.judge, calibration, states.calibration, states.means, name, o.calibrationPerSide)) : undefined;
    if (from) transports.set(name, from);
    const current = from ? transportedShare(from) : share(trials[0]!.add.outcome);
    const gaussian = betterMove(name, calibrateAffine(o.decoder, o.judge, calibration, o.train, name, o.calibrationPerSide), current);
    const affine = (await netAdd(o, calibration, name, Math.max(current, gaussian?.calibrationShare ?? 0))) ?? gaussian;
    if (affine) affines.set(name, affine);
    const transport = from && states ? { stateOf: states.heldOut, from: new Map(from.map((t) => [t.state, t])) } : undefined;
    const old = o.previous?.file.attributes.find((a) => a.name === name);
    const row = measureAttribute(o.decoder, o.judge, heldOut, name, trials, normals, o.testPerSide, old ? { vector: old.vector, scale: o.previous!.scale } : undefined, transport, affine);
    rows.push(row);
    bar.update(k + 1, `${name}: ${row.method}, add ${(100 * row.add).toFixed(0)}% remove ${(100 * row.remove).toFixed(0)}% others ${(100 * row.othersUnchanged).toFixed(1)}%`);
  }
  bar.finish();
  const file = attributesFile(o, names, chosen, normals, rows, states ? { names: states.names, fitted, transports } : null, affines);
  writeFileSync(join(o.dir, 'attributes.json'), compactJson(file) + '\n');
  writeFileSync(join(o.dir, 'attribute-edits.png'), await attributeSheet(o.decoder, o.test, file));
  return updateManifest(o.dir, (m) => ({
    ...m,
    attributes: 'attributes.json',
    figures: { ...m.figures, attributeEdits: 'attribute-edits.png' },
    training: { ...m.training, attributesCommand: o.command },
    metrics: { ...m.metrics, attributeEdits: { ...editMetrics(o, rows), ...(states ? { states: { names: states.names, probeAccuracy: states.accuracy } } : {}) } },
  }));
}

/** The network fitted to the attribute's counterfactual pairs, when there are pairs and it adds on more calibration faces than `current`. */
async function netAdd(o: AttributeBuildOptions, calibration: EditFaces, name: string, current: number): Promise<CalibratedMove | undefined> {
  const pairs = await o.pairs?.(name);
  if (!pairs) return undefined;
  const fitted = await fitEditNet(pairs);
  console.log(`  ${name}: a network fitted to ${pairs.n} counterfactual pairs explains ${(100 * fitted.validationR2).toFixed(1)}% of the variance of held-back pairs' exact moves.`);
  const move = { kind: 'network' as const, net: fitted.net, file: fitted.file, pairs: pairs.n, validationR2: fitted.validationR2 };
  return betterMove(name, calibrateMove(o.decoder, o.judge, calibration, name, o.calibrationPerSide, move), current);
}

/** The transports, when on the calibration faces they add the attribute more often than the single direction does; else none. */
function betterTransports(shipped: MethodTrial, from: CalibratedTransport[]): CalibratedTransport[] | undefined {
  const faces = from.reduce((n, t) => n + t.faces, 0);
  const transported = transportedShare(from);
  const direct = share(shipped.add.outcome);
  console.log(`  ${shipped.method} adds on ${(100 * direct).toFixed(0)}% of calibration faces, the transports from each state on ${(100 * transported).toFixed(0)}%: ${transported > direct ? 'ship the transports' : 'keep the direction'}.`);
  return faces > 0 && transported > direct ? from : undefined;
}

/** Share of calibration faces the transports from each state added the attribute on, all states together. */
function transportedShare(from: readonly CalibratedTransport[]): number {
  const faces = from.reduce((n, t) => n + t.faces, 0);
  return from.reduce((n, t) => n + t.calibrationShare * t.faces, 0) / Math.max(1, faces);
}

interface StateSetup {
  names: string[];
  means: Map<string, Float64Array>;
  /** Each face's state as the probes read it, on the calibration and the held-out faces. */
  calibration: string[];
  heldOut: string[];
  /** Share of held-out faces whose read state is their labelled one. */
  accuracy: number;
}

/**
 * The exclusive states of the face set (hair colour, bald, hat), their means,
 * and every face's state as the probes read it. Only when the file will hold
 * every state (not for an --only subset without them): the studio reads a
 * face's state among all of them.
 */
function stateSetup(o: AttributeBuildOptions, built: readonly string[], calibration: LabelledCodes, fitted: ReadonlyMap<string, Probe>): StateSetup | null {
  const names = exclusiveStates(o.train, o.judge.attributes.filter((n) => o.train.names.includes(n)));
  if (!names || !names.every((n) => built.includes(n))) return null;
  const heldOut = statesOf(o.test, names, fitted);
  const right = heldOut.filter((s, i) => o.test.labels[i * o.test.names.length + o.test.names.indexOf(s)]! > 0).length;
  const accuracy = Math.round((1000 * right) / Math.max(1, o.test.n)) / 1000;
  console.log(`States: ${names.join(', ')}; the probes read the state of ${(100 * accuracy).toFixed(1)}% of held-out faces right.`);
  return { names, means: stateMeans(o.train, names), calibration: statesOf(calibration, names, fitted), heldOut, accuracy };
}

interface StateFile {
  names: string[];
  fitted: ReadonlyMap<string, Probe>;
  transports: ReadonlyMap<string, CalibratedTransport[]>;
}

function attributesFile(
  o: AttributeBuildOptions, names: readonly string[], chosen: ReadonlyMap<string, MethodTrial>, normals: ReadonlyMap<string, Float64Array>,
  rows: readonly AttributeRow[], states: StateFile | null, affines: ReadonlyMap<string, CalibratedMove>,
): AttributesFile {
  const attributes: AttributeVector[] = names.map((name) => {
    const t = chosen.get(name)!;
    const row = rows.find((r) => r.name === name)!;
    const group = groupOf(name);
    const isState = states?.names.includes(name) ?? false;
    const from = states?.transports.get(name);
    const affine = affines.get(name);
    return {
      name,
      vector: Array.from(t.direction, round4),
      ...countLabels(o.train, name),
      norm: 1,
      method: t.method,
      scale: { add: t.add.scale, remove: t.remove.scale },
      normal: Array.from(normals.get(name)!, round4),
      ...(group ? { group } : {}),
      alsoChanges: { free: row.flips, kept: row.kept.flips },
      ...(isState ? { bias: round4(unitProbe(states!.fitted.get(name)!).bias) } : {}),
      ...(from?.length ? { from: from.map(({ state, vector, scale }) => ({ state, vector, scale })) } : {}),
      ...(affine ? { transport: transportOf(affine, round4) } : {}),
    };
  });
  const omitted = o.train.names.filter((n) => !names.includes(n)).map((n) => ({ name: n, ...countLabels(o.train, n), reason: 'the judge cannot read it (too few faces with or without it in its set)' }));
  const body = { format: ATTRIBUTES_FORMAT, latentDim: o.train.d, modelVersion: o.manifest.version, attributes, ...(states ? { states: states.names } : {}), omitted };
  return { ...body, version: attributesVersion(body) };
}

function editMetrics(o: AttributeBuildOptions, rows: readonly AttributeRow[]): Record<string, unknown> {
  const accuracy = Object.values(o.judge.accuracy);
  return {
    method: 'encode held-out faces; add (or subtract) the attribute\'s direction at its calibrated scale (slider ±1), or add it by its state transport, its Gaussian transport or its network fitted to counterfactual pairs where it ships one; decode; read with the independent judge (a CNN trained on a separate face set); others = attributes outside the edited one\'s group keeping the verdict they had on the unedited reconstruction',
    judge: { attributes: o.judge.attributes.length, meanAccuracy: Math.round((1000 * accuracy.reduce((a, b) => a + b, 0)) / accuracy.length) / 1000 },
    calibration: { faces: `the first ${o.calibrationFaces} training faces`, perSide: o.calibrationPerSide, target: CALIBRATION_TARGET },
    perSide: o.testPerSide,
    target: 0.8,
    othersTarget: 0.9,
    ...(o.previous ? { before: { what: 'the previous vectors (plain mean difference) at their global scale', scale: o.previous.scale } } : {}),
    rows,
  };
}

export interface AttributeStepInput {
  dir: string;
  manifest: BundleManifest;
  /** The model's own faces, with labels. */
  data: ImageDataset;
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  judgeDir: string;
  loadJudgeData: () => Promise<ImageDataset>;
  cacheDir: string;
  methods: readonly DirectionMethod[];
  calibrationFaces?: number;
  calibrationPerSide?: number;
  testPerSide?: number;
  only?: readonly string[];
  command: string;
  pairs?: AttributeBuildOptions['pairs'];
}

/**
 * The whole step from a bundle on disk (npm run attributes, and npm run train
 * with --judge-data): the judge, the codes of the training and held-out faces,
 * the bundle's previous vectors for comparison, then buildAttributes.
 */
export async function runAttributeStep(i: AttributeStepInput): Promise<BundleManifest> {
  const { manifest, data } = i;
  if (!data.attributeNames || !data.train.attributes || !data.test.attributes) throw new Error(`${data.source} has no attribute labels`);
  const judge = await cachedJudge(join(i.judgeDir, `.judge-${manifest.image.height}x${manifest.image.width}-crop${manifest.dataset.crop ?? 0}`), i.loadJudgeData);
  const names = data.attributeNames;
  const d = manifest.latentDim;
  const train: LabelledCodes = { z: trainingCodes(i.encoder, data, manifest, i.cacheDir), d, n: data.train.count, labels: data.train.attributes, names };
  console.log(`Encoding ${data.test.count} held-out faces…`);
  const test: LabelledCodes = { z: encodeMeans(i.encoder, data.test, Int32Array.from({ length: data.test.count }, (_, k) => k)), d, n: data.test.count, labels: data.test.attributes, names };
  const previous = manifest.attributes ? parseAttributes(JSON.parse(readFileSync(join(i.dir, manifest.attributes), 'utf8')), manifest) : null;
  const oldScale = (manifest.metrics.attributeEdits as { scale?: unknown } | undefined)?.scale;
  return buildAttributes({
    dir: i.dir, manifest, decoder: i.decoder, judge, train, test, methods: i.methods, command: i.command,
    calibrationFaces: i.calibrationFaces ?? ATTRIBUTE_DEFAULTS.calibrationFaces,
    calibrationPerSide: i.calibrationPerSide ?? ATTRIBUTE_DEFAULTS.calibrationPerSide,
    testPerSide: i.testPerSide ?? ATTRIBUTE_DEFAULTS.testPerSide,
    ...(i.only ? { only: i.only } : {}),
    ...(i.pairs ? { pairs: i.pairs } : {}),
    ...(previous && previous.format !== ATTRIBUTES_FORMAT && typeof oldScale === 'number' ? { previous: { file: previous, scale: oldScale } } : {}),
  });
}
