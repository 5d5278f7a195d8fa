/**
 * A labelled synthetic face set written in CelebA's exact on-disk layout, so the
 * CelebA reader and the training loop consume it unchanged. Faces are DiceBear's
 * "avataaars" style (artwork by Pablo Stanley, remixed by DiceBear), rasterised
 * with resvg and encoded with sharp. Every label comes from a trait drawn with a
 * seeded RNG and forced into the avatar, so the labels are true by construction.
 * The mapping from traits to CelebA attributes is documented in AVATARS.md.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createAvatar } from '@dicebear/core';
import { avataaars } from '@dicebear/collection';
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { CELEBA_ATTRIBUTES, CELEBA_HEIGHT, CELEBA_WIDTH, type CelebAAttribute } from './celeba.ts';
import { mulberry32 } from './split.ts';

export const AVATAR_WIDTH = CELEBA_WIDTH;
export const AVATAR_HEIGHT = CELEBA_HEIGHT;
const JPEG_QUALITY = 92;

/*
 * Framing. The avataaars canvas is 280x280 units with the eyes at (114, 112) and
 * (166, 112). CelebA's aligned images put the eyes on row ~111 of 218, centred,
 * about 40 px apart; 0.85 px per unit gives 44 px apart, which keeps the larger
 * cartoon head (and big hair styles) inside the frame while matching the eye row.
 * The view box is set so that the eye line lands on row 111 and the face is
 * centred horizontally; what falls outside the 280x280 canvas is background.
 */
const PX_PER_UNIT = 0.85;
const EYE_CENTRE = { x: 140, y: 112 } as const;
const EYE_ROW = 111;
const VIEW_BOX = [
  EYE_CENTRE.x - AVATAR_WIDTH / PX_PER_UNIT / 2,
  EYE_CENTRE.y - EYE_ROW / PX_PER_UNIT,
  AVATAR_WIDTH / PX_PER_UNIT,
  AVATAR_HEIGHT / PX_PER_UNIT,
].map((v) => v.toFixed(3)).join(' ');

/* Option values, restricted to human-looking ones (no hearts, x-eyes, vomit, eye patches). */
const MOUTHS = {
  smilingOpen: ['smile', 'default'],
  smilingClosed: ['twinkle'],
  neutralOpen: ['disbelief', 'concerned'],
  neutralClosed: ['serious', 'sad'],
} as const;
const EYES_NARROW = ['squint'] as const;
const EYES_OPEN = ['default', 'side', 'surprised'] as const;
const EYEBROWS = [
  'defaultNatural', 'flatNatural', 'raisedExcitedNatural', 'upDownNatural', 'frownNatural', 'sadConcernedNatural',
  'default', 'raisedExcited', 'upDown',
] as const;
/** Every one of these covers the eyes with a frame; sunglasses count, as they do in CelebA. */
const GLASSES = ['kurt', 'prescription01', 'prescription02', 'round', 'sunglasses', 'wayfarers'] as const;
/** DiceBear's frame colours: black, charcoal, navy, light blue, silver, red. */
const GLASSES_COLOURS = ['262e33', '3c4f5c', '25557c', '5199e4', '929598', 'ff5c5c'] as const;
/** The colours most real frames have (the 'dark' default): black, charcoal, navy, silver. */
const GLASSES_COLOURS_DARK = ['262e33', '3c4f5c', '25557c', '929598'] as const;
const BEARDS = ['beardLight', 'beardMedium', 'beardMajestic'] as const;
const MOUSTACHES = ['moustacheFancy', 'moustacheMagnum'] as const;
/** Hijab and turban are left out: they hide the hair, and whether CelebA would call them hats is unclear. */
const HATS = ['hat', 'winterHat1', 'winterHat02', 'winterHat03', 'winterHat04'] as const;
export const HAIR = {
  straight: ['bob', 'longButNotTooLong', 'miaWallace', 'straight01', 'straight02', 'straightAndStrand'],
  wavy: ['curly', 'curvy', 'bigHair', 'shortWaved'],
  /** Neither straight nor wavy by CelebA's labels: short crops, buns, dreadlocks, afros. */
  other: [
    'bun', 'dreads', 'dreads01', 'dreads02', 'fro', 'froBand', 'shavedSides', 'frizzle', 'shaggy', 'shaggyMullet',
    'shortCurly', 'shortFlat', 'shortRound', 'theCaesar', 'theCaesarAndSidePart',
  ],
} as const;
/** Only colours a person would name at once; auburn, red and pink map to no CelebA attribute and are left out. */
export const HAIR_COLOURS = {
  black: ['2c1b18', '1c1412', '231f20'],
  brown: ['4a312c', '724133', '5e3b2a'],
  blond: ['d6b370', 'e6c98a', 'c9a45c'],
  gray: ['e8e1e1', 'bdb8b8', '9c9a9a'],
} as const;
/** Natural skin tones only (DiceBear's yellow and orange are left out); the lightest counts as Pale_Skin. */
const SKIN_PALE = ['ffdbb4'] as const;
const SKIN_OTHER = ['edb98a', 'd08b5b', 'ae5d29', '614335'] as const;
const CLOTHING = [
  'blazerAndShirt', 'blazerAndSweater', 'collarAndSweater', 'graphicShirt', 'hoodie', 'overall', 'shirtCrewNeck',
  'shirtScoopNeck', 'shirtVNeck',
] as const;
const CLOTHING_GRAPHICS = ['bat', 'bear', 'cumbia', 'deer', 'diamond', 'hola', 'pizza', 'resist', 'skull', 'skullOutline'] as const;
const PALETTE = [
  '262e33', '65c9ff', '5199e4', '25557c', 'e6e6e6', '929598', '3c4f5c', 'b1e2ff', 'a7ffc4', 'ffafb9', 'ffffb1',
  'ff488e', 'ff5c5c', 'ffffff',
] as const;

export type HairColour = keyof typeof HAIR_COLOURS;
export type HairTexture = keyof typeof HAIR;
export type Head = 'hair' | 'hat' | 'bald';
export type FacialHair = 'none' | 'beard' | 'moustache';

/** Everything that decides one avatar; each labelled trait is drawn independently of the others. */
export interface AvatarTraits {
  smiling: boolean;
  mouthOpen: boolean;
  mouth: string;
  narrowEyes: boolean;
  eyes: string;
  eyebrows: string;
  eyeglasses: boolean;
  glasses: string;
  glassesColour: string;
  facialHair: FacialHair;
  facialHairStyle: string;
  /** Colour of the beard or moustache (see FacialHairColour). */
  facialHairHex: string;
  head: Head;
  /** The hat style when head is 'hat', the hair style when 'hair', unused when 'bald'. */
  top: string;
  hatColour: string;
  hairColour: HairColour;
  hairTexture: HairTexture;
  hairHex: string;
  paleSkin: boolean;
  skinHex: string;
  clothing: string;
  clothingGraphic: string;
  clothesHex: string;
  backgroundHex: string;
}

/** Probability of each labelled trait; chosen so every attribute has plenty of positives. */
export const TRAIT_RATES = {
  smiling: 0.5,
  mouthOpen: 0.5,
  narrowEyes: 0.3,
  eyeglasses: 0.35,
  beard: 0.25,
  moustache: 0.25,
  hat: 0.25,
  /** Of the heads without a hat. */
  bald: 0.2,
  paleSkin: 0.3,
} as const;

/**
 * How beards and moustaches are coloured. 'contrast' (the default since the
 * second faces model): any natural hair colour that stands out from the skin
 * (WCAG contrast ratio at least 3), drawn apart from the head hair's colour.
 * 'hair' (the first faces models' data): the head hair's colour, which hid a
 * dark beard on dark skin and tied every hair-colour vector to the beard, so
 * that "add black hair" also drew a black beard.
 */
export type FacialHairColour = 'dark' | 'contrast' | 'hair';
export const FACIAL_HAIR_COLOURS: readonly FacialHairColour[] = ['dark', 'contrast', 'hair'];
const MIN_BEARD_CONTRAST = 3;
/**
 * 'dark' (the default since the third faces data): a black or brown beard,
 * drawn apart from the head hair, among the shades that still show on the skin
 * (contrast ratio at least 1.8: on the darkest skin, the three blacks). Grey
 * and blond beards are left out: under 'contrast' they were the only beards
 * the darkest skins could have, and the moustache vector (a dark patch above
 * the mouth, as most moustaches are) of the faces model f49d695e removed
 * 100% of the dark moustaches but none of the light ones.
 */
const MIN_DARK_BEARD_CONTRAST = 1.8;

/**
 * Frame colours of the glasses. 'dark' (the default since the third faces
 * data): black, charcoal, navy and silver, the colours most real frames have.
 * 'all': DiceBear's six, with light blue and red, as the data of the faces
 * models up to f49d695e; red frames were the sixth of the glasses that the
 * glasses vector (dark frames, as most are) could not remove (9%).
 */
export type FrameColours = 'dark' | 'all';
export const FRAME_COLOURS: readonly FrameColours[] = ['dark', 'all'];

/** The choices that changed between versions of the set; everything else is fixed. */
export interface AvatarLook {
  facialHairColour: FacialHairColour;
  frameColours: FrameColours;
}
export const DEFAULT_LOOK: AvatarLook = { facialHairColour: 'dark', frameColours: 'dark' };

function relativeLuminance(hex: string): number {
  const [r, g, b] = [0, 2, 4].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours: 1 (the same) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [relativeLuminance(a), relativeLuminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** Hair colours a beard may have on this skin under 'contrast' or (the default) 'dark'. */
export function beardColoursFor(skinHex: string, rule: Exclude<FacialHairColour, 'hair'> = 'dark'): string[] {
  if (rule === 'contrast') return Object.values(HAIR_COLOURS).flat().filter((h) => contrastRatio(h, skinHex) >= MIN_BEARD_CONTRAST);
  return [...HAIR_COLOURS.black, ...HAIR_COLOURS.brown].filter((h) => contrastRatio(h, skinHex) >= MIN_DARK_BEARD_CONTRAST);
}

/** A full look from a partial one (missing choices take the defaults), checked. */
export function avatarLook(look: Partial<AvatarLook> = {}): AvatarLook {
  const full = { ...DEFAULT_LOOK, ...look };
  if (!FACIAL_HAIR_COLOURS.includes(full.facialHairColour)) throw new Error(`facial hair colour must be one of ${FACIAL_HAIR_COLOURS.join(', ')}, got ${JSON.stringify(full.facialHairColour)}`);
  if (!FRAME_COLOURS.includes(full.frameColours)) throw new Error(`frame colours must be one of ${FRAME_COLOURS.join(', ')}, got ${JSON.stringify(full.frameColours)}`);
  return full;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** A per-image RNG, so any image can be drawn (and any worker can render it) without drawing the ones before. */
function imageRng(seed: number, index: number): () => number {
  let h = Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return mulberry32((h ^ (h >>> 16)) >>> 0);
}

/** A light, gently tinted background colour (CelebA backgrounds vary, but faces stand out from them). */
function lightBackground(rand: () => number): string {
  const h = rand() * 360;
  const s = 0.2 + rand() * 0.3;
  const l = 0.84 + rand() * 0.1;
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)].map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join('');
}

/**
 * The traits of image `index` (0-based) of the set made with `seed` and `look`.
 * The look changes which palette a colour is picked from, never how many
 * numbers are drawn, so every other trait is the same under any look.
 */
export function drawTraits(seed: number, index: number, look: Partial<AvatarLook> = {}): AvatarTraits {
  const { facialHairColour, frameColours } = avatarLook(look);
  const rand = imageRng(seed, index);
  const smiling = rand() < TRAIT_RATES.smiling;
  const mouthOpen = rand() < TRAIT_RATES.mouthOpen;
  const mouths = smiling
    ? mouthOpen ? MOUTHS.smilingOpen : MOUTHS.smilingClosed
    : mouthOpen ? MOUTHS.neutralOpen : MOUTHS.neutralClosed;
  const narrowEyes = rand() < TRAIT_RATES.narrowEyes;
  const eyeglasses = rand() < TRAIT_RATES.eyeglasses;
  const u = rand();
  const facialHair: FacialHair = u < TRAIT_RATES.beard ? 'beard' : u < TRAIT_RATES.beard + TRAIT_RATES.moustache ? 'moustache' : 'none';
  const head: Head = rand() < TRAIT_RATES.hat ? 'hat' : rand() < TRAIT_RATES.bald ? 'bald' : 'hair';
  const hairColour = pick(rand, Object.keys(HAIR_COLOURS) as HairColour[]);
  const hairTexture = pick(rand, Object.keys(HAIR) as HairTexture[]);
  const paleSkin = rand() < TRAIT_RATES.paleSkin;
  const traits = {
    smiling,
    mouthOpen,
    mouth: pick(rand, mouths),
    narrowEyes,
    eyes: pick(rand, narrowEyes ? EYES_NARROW : EYES_OPEN),
    eyebrows: pick(rand, EYEBROWS),
    eyeglasses,
    glasses: pick(rand, GLASSES),
    glassesColour: pick(rand, frameColours === 'all' ? GLASSES_COLOURS : GLASSES_COLOURS_DARK),
    facialHair,
    facialHairStyle: pick(rand, facialHair === 'moustache' ? MOUSTACHES : BEARDS),
    head,
    top: head === 'hat' ? pick(rand, HATS) : pick(rand, HAIR[hairTexture]),
    hatColour: pick(rand, PALETTE),
    hairColour,
    hairTexture,
    hairHex: pick(rand, HAIR_COLOURS[hairColour]),
    paleSkin,
    skinHex: pick(rand, paleSkin ? SKIN_PALE : SKIN_OTHER),
    clothing: pick(rand, CLOTHING),
    clothingGraphic: pick(rand, CLOTHING_GRAPHICS),
    clothesHex: pick(rand, PALETTE),
    backgroundHex: lightBackground(rand),
  };
  // Drawn last, so 'hair' sets keep the exact random sequence (and images) they always had.
  const facialHairHex = facialHairColour === 'hair' ? traits.hairHex : pick(rand, beardColoursFor(traits.skinHex, facialHairColour));
  return { ...traits, facialHairHex };
}

/**
 * The forty CelebA attributes (+1 / -1) that the traits make true. Hair colour
 * and texture are only claimed when hair shows (no hat, not bald); attributes
 * the artwork cannot show are -1 (see AVATARS.md).
 */
export function attributesOf(t: AvatarTraits): Int8Array {
  const hairShows = t.head === 'hair';
  const on: Partial<Record<CelebAAttribute, boolean>> = {
    Smiling: t.smiling,
    Mouth_Slightly_Open: t.mouthOpen,
    Narrow_Eyes: t.narrowEyes,
    Eyeglasses: t.eyeglasses,
    No_Beard: t.facialHair === 'none',
    Mustache: t.facialHair === 'moustache',
    Wearing_Hat: t.head === 'hat',
    Bald: t.head === 'bald',
    Black_Hair: hairShows && t.hairColour === 'black',
    Brown_Hair: hairShows && t.hairColour === 'brown',
    Blond_Hair: hairShows && t.hairColour === 'blond',
    Gray_Hair: hairShows && t.hairColour === 'gray',
    Straight_Hair: hairShows && t.hairTexture === 'straight',
    Wavy_Hair: hairShows && t.hairTexture === 'wavy',
    Pale_Skin: t.paleSkin,
  };
  return Int8Array.from(CELEBA_ATTRIBUTES, (name) => (on[name] ? 1 : -1));
}

/** The avatar as an SVG string framed like a CelebA aligned image; every DiceBear choice is pinned. */
export function avatarSvg(t: AvatarTraits): string {
  const svg = createAvatar(avataaars, {
    seed: 'pinned',
    style: ['default'],
    mouth: [t.mouth],
    eyes: [t.eyes],
    eyebrows: [t.eyebrows],
    accessories: [t.glasses],
    accessoriesColor: [t.glassesColour],
    accessoriesProbability: t.eyeglasses ? 100 : 0,
    facialHair: [t.facialHairStyle],
    facialHairColor: [t.facialHairHex],
    facialHairProbability: t.facialHair === 'none' ? 0 : 100,
    top: [t.top],
    topProbability: t.head === 'bald' ? 0 : 100,
    hairColor: [t.hairHex],
    hatColor: [t.hatColour],
    skinColor: [t.skinHex],
    clothing: [t.clothing],
    clothingGraphic: [t.clothingGraphic],
    clothesColor: [t.clothesHex],
    backgroundColor: ['transparent'],
  } as Parameters<typeof avataaars.create>[0]['options']).toString();
  const framed = svg.replace('viewBox="0 0 280 280"', `viewBox="${VIEW_BOX}"`);
  if (framed === svg) throw new Error('@dicebear/avataaars no longer emits viewBox="0 0 280 280"; update the framing in training/data/avatars.ts');
  return framed;
}

/** RGBA pixels (AVATAR_HEIGHT x AVATAR_WIDTH x 4) of the avatar on its background. */
export function rasterise(t: AvatarTraits): Buffer {
  const resvg = new Resvg(avatarSvg(t), {
    fitTo: { mode: 'width', value: AVATAR_WIDTH },
    background: `#${t.backgroundHex}`,
    // The artwork has no text; loading system fonts would cost more than the rendering.
    font: { loadSystemFonts: false },
  });
  const image = resvg.render();
  if (image.width !== AVATAR_WIDTH || image.height !== AVATAR_HEIGHT) {
    throw new Error(`resvg rendered ${image.width}x${image.height}, expected ${AVATAR_WIDTH}x${AVATAR_HEIGHT}`);
  }
  return image.pixels;
}

export function encodeJpeg(rgba: Buffer): Promise<Buffer> {
  return sharp(rgba, { raw: { width: AVATAR_WIDTH, height: AVATAR_HEIGHT, channels: 4 } })
    .removeAlpha()
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer();
}

/** CelebA's file name of image `index` (0-based): 000001.jpg, 000002.jpg, ... */
export function imageName(index: number): string {
  return `${String(index + 1).padStart(6, '0')}.jpg`;
}

/** Header line, names line, then "000001.jpg -1  1 ..." rows: CelebA's own spacing (values right-aligned in two columns). */
export function attributeFileText(rows: readonly Int8Array[]): string {
  const lines = [String(rows.length), CELEBA_ATTRIBUTES.join(' ') + ' '];
  rows.forEach((attrs, i) => {
    lines.push(`${imageName(i)} ${Array.from(attrs, (v) => (v > 0 ? ' 1' : '-1')).join(' ')}`);
  });
  return lines.join('\n') + '\n';
}

export function partitionFileText(partitions: readonly number[]): string {
  return partitions.map((p, i) => `${imageName(i)} ${p}\n`).join('');
}

/** Render and write the images whose indices are given; resolves when all are on disk. */
export async function writeImages(
  imageDir: string,
  seed: number,
  indices: Iterable<number>,
  onWritten: () => void,
  look: Partial<AvatarLook> = {},
): Promise<void> {
  // Rasterising is synchronous; JPEG encoding and writing run on libuv's pool meanwhile.
  const MAX_IN_FLIGHT = 4;
  const inFlight = new Set<Promise<void>>();
  for (const i of indices) {
    const rgba = rasterise(drawTraits(seed, i, look));
    const job: Promise<void> = encodeJpeg(rgba)
      .then((jpeg) => writeFile(join(imageDir, imageName(i)), jpeg))
      .then(() => {
        inFlight.delete(job);
        onWritten();
      });
    inFlight.add(job);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

export interface AvatarSetOptions {
  count: number;
  out: string;
  seed: number;
  /** The last round(count * testFraction) images form the test partition (2), the rest train (0). */
  testFraction: number;
  /** worker_threads to render with; 1 renders on the calling thread. */
  workers?: number;
  /** Replace the CelebA-layout entries of a non-empty `out`. */
  overwrite?: boolean;
  /** Beard and frame colours (default DEFAULT_LOOK). */
  look?: Partial<AvatarLook>;
  onProgress?: (written: number) => void;
}

interface WorkerJob {
  kind: 'avatar-worker';
  imageDir: string;
  seed: number;
  count: number;
  first: number;
  step: number;
  look: AvatarLook;
}

function* strided(first: number, step: number, count: number): Generator<number> {
  for (let i = first; i < count; i += step) yield i;
}

async function prepareOutput(out: string, overwrite: boolean): Promise<string> {
  const imageDir = join(out, 'img_align_celeba');
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length > 0) {
    if (!overwrite) {
      throw new Error(`${out} is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''}); choose another --out or pass --overwrite to replace its CelebA-layout files`);
    }
    await rm(imageDir, { recursive: true, force: true });
    await rm(join(out, 'list_attr_celeba.txt'), { force: true });
    await rm(join(out, 'list_eval_partition.txt'), { force: true });
  }
  await mkdir(imageDir, { recursive: true });
  return imageDir;
}

/**
 * A worker running this module. Under tsx the worker thread does not inherit
 * the TypeScript loader, so it registers tsx before importing this file.
 */
function spawnSelf(data: WorkerJob): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), { workerData: data });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(self)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

function renderInWorkers(job: Omit<WorkerJob, 'first' | 'step' | 'kind'>, workers: number, onImage: () => void): Promise<void> {
  const runs = Array.from({ length: workers }, (_, first) => new Promise<void>((resolve, reject) => {
    const data: WorkerJob = { kind: 'avatar-worker', ...job, first, step: workers };
    const worker = spawnSelf(data);
    worker.on('message', (n: number) => { for (let k = 0; k < n; k++) onImage(); });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`avatar worker ${first} exited with code ${code}`))));
  }));
  return Promise.all(runs).then(() => undefined);
}

/**
 * Write `count` avatars in CelebA's layout under `out`. The labels and
 * partitions are written last, so an interrupted run never looks complete.
 */
export async function writeAvatarSet(opts: AvatarSetOptions): Promise<{ attributes: Int8Array[]; partitions: number[] }> {
  const { count, out, seed, testFraction } = opts;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a whole number >= 1, got ${count}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be a whole number, got ${seed}`);
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`test fraction must be in [0, 1), got ${testFraction}`);
  const workers = Math.max(1, Math.min(opts.workers ?? 1, count));
  const imageDir = await prepareOutput(out, opts.overwrite ?? false);

  let written = 0;
  const onImage = (): void => { written++; opts.onProgress?.(written); };
  const look = avatarLook(opts.look);
  if (workers === 1) await writeImages(imageDir, seed, strided(0, 1, count), onImage, look);
  else await renderInWorkers({ imageDir, seed, count, look }, workers, onImage);

  const attributes = Array.from({ length: count }, (_, i) => attributesOf(drawTraits(seed, i, look)));
  const testCount = Math.round(count * testFraction);
  const partitions = Array.from({ length: count }, (_, i) => (i >= count - testCount ? 2 : 0));
  await writeFile(join(out, 'list_attr_celeba.txt'), attributeFileText(attributes));
  await writeFile(join(out, 'list_eval_partition.txt'), partitionFileText(partitions));
  return { attributes, partitions };
}

/** Entry point when this module runs as one of writeAvatarSet's workers. */
async function runWorker(job: WorkerJob): Promise<void> {
  // Report in small groups: one message per image would cost more than it tells.
  let pending = 0;
  await writeImages(job.imageDir, job.seed, strided(job.first, job.step, job.count), () => {
    if (++pending >= 16) { parentPort!.postMessage(pending); pending = 0; }
  }, job.look);
  if (pending > 0) parentPort!.postMessage(pending);
}

if (!isMainThread && (workerData as WorkerJob | null)?.kind === 'avatar-worker') {
  sharp.concurrency(1);
  await runWorker(workerData as WorkerJob);
}
