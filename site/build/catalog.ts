/**
 * The studios the site offers, and which of them have a trained bundle in
 * public/models/index.json. Read at build time by the layout and the home page.
 */

export interface Studio {
  id: string;
  href: string;
  name: string;
  summary: string;
}

export const STUDIOS: readonly Studio[] = [
  {
    id: 'digits',
    href: '/digits',
    name: 'Digits',
    summary: 'A two-dimensional latent space of handwritten digits: the whole map at a glance, decoded live under your pointer.',
  },
  {
    id: 'faces',
    href: '/faces',
    name: 'Faces',
    summary: 'A latent space of faces: draw new ones, steer them along attributes such as smiling or eyeglasses, morph between two and share the result.',
  },
];

/** The model ids listed in a parsed models/index.json; anything malformed lists nothing. */
export function listedModels(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const models = (json as { models?: unknown }).models;
  return Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : [];
}

export function studiosWithAvailability(listed: readonly string[]): (Studio & { available: boolean })[] {
  return STUDIOS.map((s) => ({ ...s, available: listed.includes(s.id) }));
}

/** Build time only: the ids in public/models/index.json (astro build runs from the project root). */
export async function listedModelsOnDisk(root: string = process.cwd()): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  try {
    return listedModels(JSON.parse(await readFile(join(root, 'public/models/index.json'), 'utf8')));
  } catch {
    return [];
  }
}
