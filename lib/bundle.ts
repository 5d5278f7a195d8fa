/**
 * The bundle contract: what training writes under public/models/<id>/ and what
 * the site and the edge functions read. Everything a reader touches is named by
 * manifest.json; paths inside it are relative to the manifest.
 */
import { decodeNet, type EditNetFile } from './edit-net.ts';

export const BUNDLE_FORMAT = 1;

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface LossTriple {
  /** Negative ELBO in nats per image: reconstruction + KL (beta = 1). */
  negElbo: number;
  /** Summed binary cross-entropy (or the documented reconstruction term) per image. */
  reconstruction: number;
  /** KL(q(z|x) || N(0, I)) per image. */
  kl: number;
}

export interface BundleManifest {
  format: number;
  id: string;
  title: string;
  description?: string;
  /** Short content hash of the decoder weights; share links carry it. */
  version: string;
  latentDim: number;
  image: ImageShape;
  decoder: string;
  encoder: string | null;
  latentMap: string | null;
  attributes: string | null;
  history: string | null;
  /** The learned latent prior (lib/prior.ts) that "New face" samples; absent: sample N(0, I). */
  prior?: string | null;
  /** Pictures written beside the bundle (sample sheets, latent map), relative paths. */
  figures?: Record<string, string>;
  /** crop: faces cut to a region this many source pixels wide before resizing (see training's cropBox). */
  dataset: { name: string; train: number; test: number; source?: string; labels?: string[]; crop?: number };
  architecture?: { encoder: string[]; decoder: string[]; parameters: { encoder: number; decoder: number } };
  training: {
    command: string;
    epochs: number;
    batchSize: number;
    beta: number;
    backend: string;
    seconds: number;
    learningRate?: number;
    imagesPerSecond?: number;
    reconstructionLoss?: string;
    [key: string]: unknown;
  };
  metrics: { test: LossTriple; [key: string]: unknown };
  /** Byte sizes of the files, so the site can show download progress in bytes. */
  files?: Record<string, number>;
}

/** attributes.json format 2: calibrated directions (unit vector, scale per side, probe normal). Format 1 files have raw mean differences only. */
export const ATTRIBUTES_FORMAT = 2;

/** The attributes another edit of this one changed most often, share of edited faces. */
export interface AttributeFlip {
  name: string;
  share: number;
}

export interface AttributeVector {
  name: string;
  /** Format 2: the unit direction of the edit. Format 1: mean(z | attribute) - mean(z | not attribute). */
  vector: number[];
  positives: number;
  negatives: number;
  norm: number;
  /** How the direction was found (mean-difference, balanced-difference, regression, probe). */
  method?: string;
  /** Latent distance for slider +1 (clearly added) and -1 (clearly removed), measured by the build. */
  scale?: { add: number; remove: number };
  /** Unit normal of the attribute's linear probe: what "keep the others" projects out. */
  normal?: number[];
  /** Attributes of one group change together by construction (hair, facial-hair, mouth). */
  group?: string;
  /** What else an edit changed on held-out faces, with "keep the others" off (free) and on (kept). */
  alsoChanges?: { free: AttributeFlip[]; kept: AttributeFlip[] };
  /** Offset of the probe for the unit normal: normal · z + bias > 0 reads "has it". Needed to tell a face's state. */
  bias?: number;
  /**
   * Adding a state attribute (a hair colour, bald, a hat) from a face in another
   * state: the move from that state's mean code to this one's (not unit), and
   * the multiple of it that slider +1 applies, calibrated per start state.
   */
  from?: StateTransport[];
  /**
   * Adding by a move that depends on the face. Either the optimal transport
   * between the Gaussians of the codes without and with the attribute
   * (training/gaussian-transport.ts): slider +1 moves z to z + scale ×
   * (z·matrix + offset − z); or a small network fitted to counterfactual
   * pairs (lib/edit-net.ts, training/edit-net.ts): slider +1 moves z by
   * scale × net(z). When present it is what adding does, from any state.
   */
  transport?: FaceTransport;
}

/** An affine map of row vectors, z·matrix + offset (matrix d×d, row-major). */
export interface AffineMap {
  matrix: number[];
  offset: number[];
}

export interface AffineTransport extends AffineMap {
  scale: number;
}

/** A network fitted to counterfactual pairs (lib/edit-net.ts), and how many pairs it was fitted to. */
export interface NetTransport {
  net: EditNetFile & { pairs: number };
  scale: number;
}

/** A face-dependent add: an affine map (a Gaussian transport) or a network. */
export type FaceTransport = AffineTransport | NetTransport;

export function isNetTransport(t: FaceTransport): t is NetTransport {
  return 'net' in t;
}

export interface StateTransport {
  state: string;
  vector: number[];
  scale: number;
}

export interface AttributesFile {
  /** 1 (absent) or ATTRIBUTES_FORMAT. */
  format?: number;
  /** A short hash of the directions and scales: share links name it, so a link made with other directions says so. */
  version?: string;
  latentDim: number;
  modelVersion: string;
  attributes: AttributeVector[];
  /** Mutually exclusive attributes every face has one of (e.g. hair colour, bald or a hat): a face's state is the one its probe reads most strongly. */
  states?: string[];
  /** Attributes left out, with why (too few positive or negative examples). */
  omitted: { name: string; positives: number; negatives: number; reason: string }[];
}

export interface LatentMap {
  /** Class names, indexed by `label`. */
  classes: string[];
  /** Flat [x0, y0, x1, y1, ...] encoder means of test images. */
  z: number[];
  label: number[];
  /** Test-set indices of the points, so a page can show the source image. */
  index?: number[];
}

export interface EpochRecord {
  epoch: number;
  train: LossTriple;
  test: LossTriple;
  seconds: number;
  imagesPerSecond: number;
}

export interface TrainingHistory {
  epochs: EpochRecord[];
}

export const ID_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

export class BundleError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'BundleError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function need<T>(ok: boolean, value: T, where: string, problem: string): T {
  if (!ok) throw new BundleError(where, problem);
  return value;
}

function str(o: Json, key: string, where: string): string {
  const v = o[key];
  return need(typeof v === 'string' && v.length > 0, v as string, where, `"${key}" must be a non-empty string`);
}

function posInt(o: Json, key: string, where: string): number {
  const v = o[key];
  return need(Number.isInteger(v) && (v as number) > 0, v as number, where, `"${key}" must be a positive integer`);
}

function finite(o: Json, key: string, where: string): number {
  const v = o[key];
  return need(typeof v === 'number' && Number.isFinite(v), v as number, where, `"${key}" must be a finite number`);
}

/** Whether `p` is a relative path inside the bundle: no scheme, no absolute path, no "..". Every path a bundle file names must be one. */
export function isBundlePath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && !p.startsWith('/') && !p.includes('\\') && !/^[a-z]+:/i.test(p) && !p.split('/').includes('..');
}

function relPath(o: Json, key: string, where: string, optional: boolean): string | null {
  const v = o[key];
  if (v === null || v === undefined) {
    return need(optional, null, where, `"${key}" is required`);
  }
  need(typeof v === 'string', null, where, `"${key}" must be a path string or null`);
  return need(isBundlePath(v), v as string, where, `"${key}" must be a relative path inside the bundle, got ${JSON.stringify(v)}`);
}

function losses(v: unknown, where: string): LossTriple {
  need(isObject(v), null, where, 'must be an object with negElbo, reconstruction and kl');
  const o = v as Json;
  return { negElbo: finite(o, 'negElbo', where), reconstruction: finite(o, 'reconstruction', where), kl: finite(o, 'kl', where) };
}

/** Checks a parsed manifest.json and returns it typed; throws BundleError naming the first problem. */
export function parseManifest(json: unknown, where = 'manifest.json'): BundleManifest {
  need(isObject(json), null, where, 'must be a JSON object');
  const m = json as Json;
  const format = posInt(m, 'format', where);
  need(format === BUNDLE_FORMAT, null, where, `bundle format ${format} is not supported (this code reads format ${BUNDLE_FORMAT})`);
  const id = str(m, 'id', where);
  need(ID_PATTERN.test(id), null, where, `"id" must match ${ID_PATTERN}, got ${JSON.stringify(id)}`);
  need(isObject(m.image), null, where, '"image" must be {height, width, channels}');
  const img = m.image as Json;
  const image = { height: posInt(img, 'height', where), width: posInt(img, 'width', where), channels: posInt(img, 'channels', where) };
  need(image.channels === 1 || image.channels === 3, null, where, '"image.channels" must be 1 or 3');
  need(isObject(m.dataset), null, where, '"dataset" must be an object');
  need(isObject(m.training), null, where, '"training" must be an object');
  need(isObject(m.metrics), null, where, '"metrics" must be an object');
  const training = m.training as Json;
  str(training, 'command', `${where} training`);
  const epochs = training.epochs;
  need(Number.isInteger(epochs) && (epochs as number) >= 0, null, `${where} training`, '"epochs" must be a whole number >= 0');
  posInt(training, 'batchSize', `${where} training`);
  finite(training, 'beta', `${where} training`);
  str(training, 'backend', `${where} training`);
  finite(training, 'seconds', `${where} training`);
  const ds = m.dataset as Json;
  str(ds, 'name', `${where} dataset`);
  posInt(ds, 'train', `${where} dataset`);
  posInt(ds, 'test', `${where} dataset`);
  const latentDim = posInt(m, 'latentDim', where);
  need(latentDim <= 1024, null, where, '"latentDim" is larger than 1024');
  return {
    ...(m as unknown as BundleManifest),
    format,
    id,
    title: str(m, 'title', where),
    version: str(m, 'version', where),
    latentDim,
    image,
    decoder: relPath(m, 'decoder', where, false)!,
    encoder: relPath(m, 'encoder', where, true),
    latentMap: relPath(m, 'latentMap', where, true),
    attributes: relPath(m, 'attributes', where, true),
    history: relPath(m, 'history', where, true),
    prior: relPath(m, 'prior', where, true),
    metrics: { ...(m.metrics as Json), test: losses((m.metrics as Json).test, `${where} metrics.test`) },
  };
}

/** Checks a parsed attributes.json against the manifest it belongs to. */
export function parseAttributes(json: unknown, manifest: Pick<BundleManifest, 'latentDim'>, where = 'attributes.json'): AttributesFile {
  need(isObject(json), null, where, 'must be a JSON object');
  const a = json as Json;
  need(Array.isArray(a.attributes), null, where, '"attributes" must be an array');
  const seen = new Set<string>();
  const attributes = (a.attributes as unknown[]).map((item, i) => {
    const w = `${where} attributes[${i}]`;
    need(isObject(item), null, w, 'must be an object');
    const o = item as Json;
    const name = str(o, 'name', w);
    need(ATTRIBUTE_NAME_PATTERN.test(name), null, w, `name ${JSON.stringify(name)} is not a valid attribute name`);
    need(!seen.has(name), null, w, `name ${name} appears twice`);
    seen.add(name);
    const vector = o.vector;
    need(Array.isArray(vector) && vector.length === manifest.latentDim && vector.every((x) => typeof x === 'number' && Number.isFinite(x)),
      null, w, `"vector" must be ${manifest.latentDim} finite numbers`);
    return { name, vector: vector as number[], positives: posInt(o, 'positives', w), negatives: posInt(o, 'negatives', w), norm: finite(o, 'norm', w), ...calibration(o, w, manifest.latentDim) };
  });
  need(a.format === undefined || a.format === 1 || a.format === ATTRIBUTES_FORMAT, null, where, `"format" ${JSON.stringify(a.format)} is not one this site reads (1 or ${ATTRIBUTES_FORMAT})`);
  need(a.version === undefined || (typeof a.version === 'string' && /^[0-9a-f]{8}$/.test(a.version)), null, where, '"version" must be 8 hex digits');
  const states = parseStates(a.states, attributes, where);
  return {
    ...(a.format !== undefined ? { format: a.format as number } : {}),
    ...(typeof a.version === 'string' ? { version: a.version } : {}),
    latentDim: manifest.latentDim,
    modelVersion: typeof a.modelVersion === 'string' ? a.modelVersion : '',
    attributes,
    ...(states ? { states } : {}),
    omitted: Array.isArray(a.omitted) ? (a.omitted as AttributesFile['omitted']) : [],
  };
}

/** "states": attributes of this file with a probe (normal and bias); every "from" names one of them. */
function parseStates(v: unknown, attributes: readonly AttributeVector[], where: string): string[] | undefined {
  const byName = new Map(attributes.map((x) => [x.name, x]));
  const froms = attributes.flatMap((x) => (x.from ?? []).map((f) => [x.name, f.state] as const));
  if (v === undefined) {
    need(froms.length === 0, null, where, `attribute ${froms[0]?.[0]} adds "from" a state, but the file lists no "states"`);
    return undefined;
  }
  need(Array.isArray(v) && v.length >= 2 && v.every((n) => typeof n === 'string'), null, where, '"states" must list at least two attribute names');
  const states = v as string[];
  for (const n of states) {
    const a = byName.get(n);
    need(a !== undefined, null, where, `"states" names ${JSON.stringify(n)}, which is not one of its attributes`);
    need(a!.normal !== undefined && a!.bias !== undefined, null, where, `state ${n} needs a probe "normal" and "bias" to be told on a face`);
  }
  for (const [name, state] of froms) need(states.includes(state) && state !== name, null, where, `attribute ${name} adds from ${JSON.stringify(state)}, which is not another of the "states"`);
  return states;
}

function transports(v: unknown, where: string, d: number): StateTransport[] {
  need(Array.isArray(v), null, where, '"from" must be an array of { state, vector, scale }');
  return (v as unknown[]).map((t, i) => {
    const w = `${where} from[${i}]`;
    need(isObject(t), null, w, 'must be an object { state, vector, scale }');
    const o = t as Json;
    const vector = o.vector;
    need(Array.isArray(vector) && vector.length === d && vector.every((x) => typeof x === 'number' && Number.isFinite(x)), null, w, `"vector" must be ${d} finite numbers`);
    const scale = finite(o, 'scale', w);
    need(scale > 0, null, w, '"scale" must be positive');
    return { state: str(o, 'state', w), vector: vector as number[], scale };
  });
}

function finiteArray(v: unknown, n: number): v is number[] {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function faceTransport(v: unknown, w: string, d: number): FaceTransport {
  need(isObject(v), null, w, 'must be an object { matrix, offset, scale } or { net, scale }');
  const o = v as Json;
  if (o.net !== undefined) return netTransport(o, w, d);
  need(finiteArray(o.matrix, d * d), null, w, `"matrix" must be ${d}×${d} = ${d * d} finite numbers (row-major)`);
  need(finiteArray(o.offset, d), null, w, `"offset" must be ${d} finite numbers`);
  const scale = finite(o, 'scale', w);
  need(scale > 0, null, w, '"scale" must be positive');
  return { matrix: o.matrix as number[], offset: o.offset as number[], scale };
}

function netTransport(o: Json, w: string, d: number): NetTransport {
  const net = o.net;
  need(isObject(net), null, w, '"net" must be an object { sizes, float16, pairs }');
  const n = net as Json;
  need(typeof n.float16 === 'string', null, w, '"net.float16" must be a base64url string');
  need(Number.isInteger(n.pairs) && (n.pairs as number) > 0, null, w, '"net.pairs" must be a positive whole number');
  const file = { sizes: n.sizes as number[], float16: n.float16 as string };
  try {
    decodeNet(file, d);
  } catch (err) {
    need(false, null, `${w} net`, (err as Error).message);
  }
  const scale = finite(o, 'scale', w);
  need(scale > 0, null, w, '"scale" must be positive');
  return { net: { ...file, pairs: n.pairs as number }, scale };
}

function flips(v: unknown, where: string): AttributeFlip[] {
  need(Array.isArray(v), null, where, 'must be an array');
  return (v as unknown[]).map((f, i) => {
    need(isObject(f), null, `${where}[${i}]`, 'must be an object');
    const o = f as Json;
    const share = finite(o, 'share', `${where}[${i}]`);
    need(share >= 0 && share <= 1, null, `${where}[${i}]`, '"share" must lie in 0..1');
    return { name: str(o, 'name', `${where}[${i}]`), share };
  });
}

/** The format-2 fields of one attribute, checked where present. */
function calibration(o: Json, w: string, d: number): Partial<AttributeVector> {
  const out: Partial<AttributeVector> = {};
  if (o.method !== undefined) out.method = str(o, 'method', w);
  if (o.scale !== undefined) {
    need(isObject(o.scale), null, w, '"scale" must be an object { add, remove }');
    const sc = o.scale as Json;
    const add = finite(sc, 'add', `${w} scale`);
    const remove = finite(sc, 'remove', `${w} scale`);
    need(add > 0 && remove > 0, null, w, '"scale" add and remove must be positive latent distances');
    out.scale = { add, remove };
  }
  if (o.normal !== undefined) {
    need(Array.isArray(o.normal) && o.normal.length === d && o.normal.every((x) => typeof x === 'number' && Number.isFinite(x)), null, w, `"normal" must be ${d} finite numbers`);
    out.normal = o.normal as number[];
  }
  if (o.group !== undefined) out.group = str(o, 'group', w);
  if (o.bias !== undefined) out.bias = finite(o, 'bias', w);
  if (o.from !== undefined) out.from = transports(o.from, w, d);
  if (o.transport !== undefined) out.transport = faceTransport(o.transport, `${w} transport`, d);
  if (o.alsoChanges !== undefined) {
    need(isObject(o.alsoChanges), null, w, '"alsoChanges" must be an object { free, kept }');
    const ac = o.alsoChanges as Json;
    out.alsoChanges = { free: flips(ac.free, `${w} alsoChanges.free`), kept: flips(ac.kept, `${w} alsoChanges.kept`) };
  }
  return out;
}

/** Checks a parsed latent-map.json (a 2-D model's encoded test images); throws BundleError naming the first problem. */
export function parseLatentMap(json: unknown, where = 'latent-map.json'): LatentMap {
  need(isObject(json), null, where, 'must be a JSON object');
  const { classes, z, label, index } = json as Json;
  need(Array.isArray(classes) && classes.length > 0 && classes.every((c) => typeof c === 'string'), null, where, '"classes" must be a non-empty array of names');
  const names = classes as string[];
  need(Array.isArray(z) && z.every((v) => typeof v === 'number' && Number.isFinite(v)), null, where, '"z" must be an array of finite numbers');
  need(Array.isArray(label) && label.every((l) => Number.isInteger(l) && l >= 0 && l < names.length), null, where, `"label" must hold class indices below ${names.length}`);
  const [points, labels] = [z as number[], label as number[]];
  need(points.length === 2 * labels.length, null, where, `"z" has ${points.length} numbers for ${labels.length} labels; a 2-D map needs two per label`);
  if (index === undefined) return { classes: names, z: points, label: labels };
  need(Array.isArray(index) && index.length === labels.length && index.every((i) => Number.isInteger(i) && i >= 0), null, where, `"index" must hold ${labels.length} test-set indices, one per label`);
  return { classes: names, z: points, label: labels, index: index as number[] };
}

/** Resolves a manifest-relative path against the manifest's URL or folder. */
export function resolveBundlePath(manifestUrl: string, relative: string): string {
  const base = manifestUrl.slice(0, manifestUrl.lastIndexOf('/') + 1);
  return base + relative;
}

/** "β = 0.05", or "β = 1 → 0.25 → 0.05" for a run trained in phases (`--new-phase`). */
export function betaText(training: BundleManifest['training']): string {
  const phases = Array.isArray(training.phases) ? (training.phases as { beta?: unknown }[]) : [];
  const betas = phases.map((p) => p.beta).filter((b): b is number => typeof b === 'number' && Number.isFinite(b));
  const steps = betas.filter((b, i) => i === 0 || b !== betas[i - 1]);
  return steps.length > 1 ? `β = ${steps.join(' → ')}` : `β = ${training.beta}`;
}
