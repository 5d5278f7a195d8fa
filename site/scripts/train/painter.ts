/**
 * Drawing happens in animation frames only: reports mark what changed, and
 * the next frame draws it (several reports between two frames cost one
 * drawing). A hidden tab draws nothing: frames are neither asked for nor,
 * should one come, used; on return everything is drawn once, as it stands.
 */

export type Layer = 'map' | 'curves' | 'grid' | 'stats';

export const ALL_LAYERS: readonly Layer[] = ['map', 'curves', 'grid', 'stats'];

/** Draws the layers marked dirty at `time`; returns the layers to draw again next frame (an animation still running). */
export type Paint = (time: number, dirty: ReadonlySet<Layer>) => Layer[];

export class FramePainter {
  private readonly dirty = new Set<Layer>();
  private requested = false;
  /** Frames that drew something (a test can check that a hidden tab drew none). */
  frames = 0;

  constructor(
    private readonly paint: Paint,
    private readonly isHidden: () => boolean = () => document.hidden,
  ) {}

  mark(...layers: Layer[]): void {
    for (const l of layers) this.dirty.add(l);
    this.request();
  }

  /** The tab is visible again: draw everything as it stands now. */
  shown(): void {
    this.mark(...ALL_LAYERS);
  }

  private request(): void {
    if (this.requested || this.isHidden() || this.dirty.size === 0) return;
    this.requested = true;
    requestAnimationFrame(this.frame);
  }

  private readonly frame = (time: number): void => {
    this.requested = false;
    if (this.isHidden() || this.dirty.size === 0) return;
    const drawing = new Set(this.dirty);
    this.dirty.clear();
    this.frames++;
    for (const again of this.paint(time, drawing)) this.dirty.add(again);
    this.request();
  };
}
