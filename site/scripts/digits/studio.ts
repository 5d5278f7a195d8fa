/**
 * The digits studio as one typed object: the pinned point, the point under
 * the pointer, the point on show, the sheet, and the parts that do the work.
 * Every feature module (point, map input, sheet, legend, share, facts) takes
 * this object; the transitions below are plain functions of its data.
 */
import type { BundleManifest, LatentMap } from '../../../lib/bundle.ts';
import { OTHER_VERSION_TITLE } from '../../../lib/latent-url.ts';
import type { BundleSource } from '../engine/bundle-source.ts';
import type { LatestOnly } from '../engine/latest-only.ts';
import type { StudioBase } from '../studio/shell.ts';
import type { DigitsElements } from './elements.ts';
import type { MapView } from './map-view.ts';
import type { GridSheet } from './plane-data.ts';
import { displayPoint, type Arrival } from './share-state.ts';

export type Point = [number, number];

/** A point asked for on the map, or something the decoder finished: that point shown, a row (or all) of an n x n sheet. */
export interface SheetEvent {
  seq: number;
  what: 'request' | 'point' | 'sheet-row' | 'sheet-done';
  n?: number;
  row?: number;
  /** Rows decoded together share a batch number. */
  batch?: number;
}

/** The last `limit` events, numbered from the start. */
export class EventLog {
  private readonly items: SheetEvent[] = [];
  private seq = 0;

  constructor(readonly limit = 300) {}

  log(event: Omit<SheetEvent, 'seq'>): void {
    this.items.push({ seq: ++this.seq, ...event });
    if (this.items.length > this.limit) this.items.shift();
  }

  /** Copies, oldest first. */
  list(): SheetEvent[] {
    return this.items.map((e) => ({ ...e }));
  }
}

/** The studio's data: no elements, no network, nothing that runs. */
export interface DigitsState {
  manifest: BundleManifest | null;
  /** Where the model on show came from (null until its manifest is in). */
  source: BundleSource | null;
  latentMap: LatentMap | null;
  /** The point a click, a key or a link settled on; the address holds it. */
  pinned: Point;
  /** The point the digit canvas shows. */
  shown: Point;
  /** The point under the pointer (or the keyboard's), while exploring. */
  cursor: Point | null;
  /** A press on the map that has not been let go. */
  pressed: boolean;
  sheet: GridSheet | null;
  /** The sheet's rendering in progress (settled() waits for it). */
  gridWork: Promise<void>;
  /** Sheets drawn in full. */
  gridCount: number;
  events: EventLog;
}

export interface DigitsStudio extends DigitsState, StudioBase<DigitsElements> {
  view: MapView | null;
  /** Decodes the newest point asked for, one per frame. */
  readonly scheduler: LatestOnly<Point>;
  /** Draws the newest sheet size asked for; the map's decodes go first. */
  readonly gridScheduler: LatestOnly<number>;
  readonly digitCtx: CanvasRenderingContext2D;
  readonly peekCtx: CanvasRenderingContext2D;
  digitImage: ImageData | null;
}

export function newDigitsState(): DigitsState {
  return {
    manifest: null,
    source: null,
    latentMap: null,
    pinned: [0, 0],
    shown: [0, 0],
    cursor: null,
    pressed: false,
    sheet: null,
    gridWork: Promise.resolve(),
    gridCount: 0,
    events: new EventLog(),
  };
}

export function samePoint(a: Point | null, b: Point | null): boolean {
  return !!a && !!b && a[0] === b[0] && a[1] === b[1];
}

/** The digit on show is the pinned one (nothing explored meanwhile). */
export function showsPinned(s: DigitsState): boolean {
  return s.cursor === null && samePoint(s.shown, s.pinned);
}

/** Pins z: the pointer's exploring ends there. */
export function pinAt(s: DigitsState, z: Point): void {
  s.pinned = z;
  s.cursor = null;
}

/**
 * The point to pin first, and the notice about the link if it needs one: a
 * link from another model version keeps its point; a broken one gives the centre.
 */
export function arrivalPin(arrival: Arrival): { pinned: Point; notice: { kind: 'warning' | 'error'; title: string; text: string } | null } {
  if (arrival.kind === 'invalid') {
    return { pinned: displayPoint(0, 0), notice: { kind: 'error', title: 'This link could not be opened', text: `${arrival.message} Showing the centre of the plane instead.` } };
  }
  if (arrival.kind === 'other-version') {
    return { pinned: displayPoint(arrival.z[0], arrival.z[1]), notice: { kind: 'warning', title: OTHER_VERSION_TITLE, text: arrival.message } };
  }
  return { pinned: arrival.kind === 'point' ? displayPoint(arrival.z[0], arrival.z[1]) : displayPoint(0, 0), notice: null };
}
