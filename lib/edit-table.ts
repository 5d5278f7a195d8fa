/**
 * The attribute-edit table a face bundle's manifest carries
 * (metrics.attributeEdits): how often each edit adds and removes its
 * attribute on held-out faces and leaves the others alone. One reader for the
 * model card and the tools; malformed rows are skipped, never guessed at.
 *
 * Two generations: the first had one global `scale` and a `target` for all
 * three figures; the calibrated one (training/attributes-build.ts) has a
 * scale per attribute and side, the direction's `method`, the figures with
 * "keep the others" on (`kept`), on the faces where the edit can show, every
 * candidate method, and the previous vectors (`before`); state attributes
 * (hair colour, bald, hat) add by a transport from each start state
 * (`fromStates`, with the single direction's `addByDirection` beside it).
 */

export interface EditFlip {
  name: string;
  share: number;
}

export interface EditFigures {
  add: number;
  remove: number;
  othersUnchanged: number;
  addCount: number;
  removeCount: number;
  flips: EditFlip[];
  addShowable?: number;
  removeShowable?: number;
}

export interface EditRow extends EditFigures {
  name: string;
  method?: string;
  scale?: { add: number; remove: number };
  showsOn?: string;
  kept?: EditFigures;
  before?: EditFigures;
  methods?: Record<string, EditFigures & { scale?: { add: number; remove: number } }>;
  /** State attributes: adding from each start state by its own transport, and the single direction's add for comparison. */
  fromStates?: FromState[];
  addByDirection?: number;
  /** Added by a face-dependent move (a Gaussian transport, or a network fitted to counterfactual pairs): its multiple and its share on the calibration faces; for a network its pair count and how much of the held-back pairs' moves it explains. */
  transport?: { kind: 'gaussian' | 'network'; scale: number; calibrationShare: number; pairs?: number; validationR2?: number };
}

export interface FromState {
  state: string;
  faces: number;
  scale: number;
  add: number;
}

export interface EditTable {
  rows: EditRow[];
  /** Add and remove must reach this share. */
  target: number | null;
  /** Others unchanged must reach this share (the first generation used `target` for it too). */
  othersTarget: number | null;
  /** The first generation's one scale for every attribute. */
  scale: number | null;
  method: string | null;
  /** The first generation's judge accuracy on the model's reconstructions, per attribute. */
  onReconstructions: Record<string, number> | null;
  before: { what: string; scale: number } | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function scaleOf(v: unknown): { add: number; remove: number } | undefined {
  if (!isObject(v)) return undefined;
  const add = num(v.add);
  const remove = num(v.remove);
  return add !== undefined && remove !== undefined ? { add, remove } : undefined;
}

function figuresOf(v: unknown): EditFigures | undefined {
  if (!isObject(v)) return undefined;
  const add = num(v.add) ?? NaN;
  const remove = num(v.remove) ?? NaN;
  const othersUnchanged = num(v.othersUnchanged) ?? NaN;
  const flips = Array.isArray(v.flips) ? v.flips.filter((f): f is EditFlip => isObject(f) && typeof f.name === 'string' && num(f.share) !== undefined) : [];
  return {
    add, remove, othersUnchanged, flips,
    addCount: num(v.addCount) ?? 0,
    removeCount: num(v.removeCount) ?? 0,
    ...(num(v.addShowable) !== undefined ? { addShowable: num(v.addShowable)! } : {}),
    ...(num(v.removeShowable) !== undefined ? { removeShowable: num(v.removeShowable)! } : {}),
  };
}

function rowOf(v: unknown): EditRow | null {
  if (!isObject(v) || typeof v.name !== 'string') return null;
  const f = figuresOf(v)!;
  const methods = isObject(v.methods)
    ? Object.fromEntries(Object.entries(v.methods).flatMap(([k, m]) => {
      const mf = figuresOf(m);
      const sc = isObject(m) ? scaleOf(m.scale) : undefined;
      return mf ? [[k, { ...mf, ...(sc ? { scale: sc } : {}) }]] : [];
    }))
    : undefined;
  const kept = figuresOf(v.kept);
  const before = figuresOf(v.before);
  const scale = scaleOf(v.scale);
  const fromStates = Array.isArray(v.fromStates)
    ? v.fromStates.filter((t): t is Json => isObject(t) && typeof t.state === 'string' && num(t.add) !== undefined && num(t.scale) !== undefined)
      .map((t) => ({ state: t.state as string, faces: num(t.faces) ?? 0, scale: num(t.scale)!, add: num(t.add)! }))
    : [];
  return {
    name: v.name, ...f,
    ...(typeof v.method === 'string' ? { method: v.method } : {}),
    ...(scale ? { scale } : {}),
    ...(typeof v.showsOn === 'string' ? { showsOn: v.showsOn } : {}),
    ...(kept ? { kept } : {}),
    ...(before ? { before } : {}),
    ...(methods ? { methods } : {}),
    ...(fromStates.length ? { fromStates } : {}),
    ...(num(v.addByDirection) !== undefined ? { addByDirection: num(v.addByDirection)! } : {}),
    ...(isObject(v.transport) && num(v.transport.scale) !== undefined ? { transport: transportOf(v.transport) } : {}),
  };
}

function transportOf(t: Record<string, unknown>): NonNullable<EditRow['transport']> {
  const pairs = num(t.pairs);
  const r2 = num(t.validationR2);
  return {
    kind: t.kind === 'network' ? 'network' : 'gaussian', scale: num(t.scale)!, calibrationShare: num(t.calibrationShare) ?? NaN,
    ...(pairs !== undefined ? { pairs } : {}), ...(r2 !== undefined ? { validationR2: r2 } : {}),
  };
}

/** Reads metrics.attributeEdits; null when the manifest has no table. */
export function parseEditTable(raw: unknown): EditTable | null {
  if (!isObject(raw) || !Array.isArray(raw.rows)) return null;
  const rec = raw.classifierOnReconstructions;
  const target = num(raw.target) ?? null;
  const before = isObject(raw.before) && typeof raw.before.what === 'string' && num(raw.before.scale) !== undefined ? { what: raw.before.what, scale: num(raw.before.scale)! } : null;
  return {
    rows: raw.rows.map(rowOf).filter((r): r is EditRow => r !== null),
    target,
    othersTarget: num(raw.othersTarget) ?? target,
    scale: num(raw.scale) ?? null,
    method: typeof raw.method === 'string' ? raw.method : null,
    onReconstructions: isObject(rec) ? Object.fromEntries(Object.entries(rec).filter(([, x]) => num(x) !== undefined)) as Record<string, number> : null,
    before,
  };
}

/** Whether figures meet the table's targets (add and remove, others unchanged). */
export function editMeetsTargets(f: EditFigures, table: Pick<EditTable, 'target' | 'othersTarget'>): boolean {
  if (table.target === null) return false;
  return f.add >= table.target && f.remove >= table.target && f.othersUnchanged >= (table.othersTarget ?? table.target);
}
