/**
 * The bundles as the edge functions see them: read through the static asset
 * server (env.ASSETS), validated with the bundle contract, kept parsed for the
 * life of the isolate and revalidated with a conditional request once the
 * copy is older than a few seconds. A deployment that replaces the bundles is
 * therefore visible without rebuilding the functions. A revalidation that
 * fails keeps the copy in memory in service rather than failing the request.
 */
import { BundleError, ID_PATTERN, parseAttributes, parseManifest, resolveBundlePath } from '../../lib/bundle.ts';
import { steerAttributes, type SteerAttribute } from '../../lib/steer.ts';
import type { AttributesFile, AttributeVector, BundleManifest } from '../../lib/bundle.ts';
import { ApiError } from './http.ts';
import type { AssetFetcher } from './http.ts';

export const MODELS_INDEX_PATH = '/models/index.json';
/** How long a parsed file is used before the asset server is asked again (If-None-Match). */
export const REVALIDATE_MS = 5_000;

export interface ModelRecord {
  id: string;
  /** Site path of the manifest, e.g. /models/faces/manifest.json. */
  manifestPath: string;
  manifest: BundleManifest;
  attributes: AttributesFile | null;
  /** Attribute vectors by name, for lookups and mixing. */
  byName: ReadonlyMap<string, AttributeVector>;
  vectors: ReadonlyMap<string, readonly number[]>;
  /** The steering view (unit direction, calibrated scale, probe normal), for the mix. */
  steer: ReadonlyMap<string, SteerAttribute>;
  names: ReadonlySet<string>;
}

/** The deployed data is missing or breaks the bundle contract: a server fault, not the client's. */
export class DataError extends ApiError {
  constructor(message: string) {
    super(503, message);
    this.name = 'DataError';
  }
}

class MissingFile extends Error {}

interface CachedFile {
  /** The asset server's ETag, or the text itself when it sends none. */
  key: string;
  etag: string | null;
  value: unknown;
  checkedAt: number;
}

type Parse = (json: unknown) => unknown;

export class BundleStore {
  /** Keyed by origin and path, the URL each file was fetched from. */
  private readonly files = new Map<string, CachedFile>();
  private readonly records = new WeakMap<object, ModelRecord>();

  constructor(private readonly revalidateMs = REVALIDATE_MS, private readonly now: () => number = Date.now) {}

  /** The model ids that index.json deploys; none when there is no index yet. */
  async modelIds(assets: AssetFetcher, origin: string): Promise<string[]> {
    try {
      return (await this.file(assets, origin, MODELS_INDEX_PATH, parseIndex)) as string[];
    } catch (e) {
      if (e instanceof MissingFile) return [];
      throw e;
    }
  }

  /** The model's parsed bundle, or undefined when index.json does not list it. */
  async model(assets: AssetFetcher, origin: string, id: string): Promise<ModelRecord | undefined> {
    if (!(await this.modelIds(assets, origin)).includes(id)) return undefined;
    const manifestPath = `/models/${id}/manifest.json`;
    const manifest = (await this.required(assets, origin, manifestPath, (json) => parseManifest(json, manifestPath))) as BundleManifest;
    if (manifest.id !== id) throw new DataError(`${manifestPath} says its id is ${manifest.id}, but it is deployed as ${id}`);
    let attributes: AttributesFile | null = null;
    if (manifest.attributes !== null) {
      const path = resolveBundlePath(manifestPath, manifest.attributes);
      attributes = (await this.required(assets, origin, path, (json) => parseAttributes(json, manifest, path))) as AttributesFile;
      if (attributes.modelVersion && attributes.modelVersion !== manifest.version) {
        throw new DataError(`${path} was computed for model version ${attributes.modelVersion}, but the deployed ${id} model is version ${manifest.version}; recompute the attribute vectors`);
      }
    }
    // Parsed objects change identity only when their file changed, so they key the derived record.
    const key = attributes ?? manifest;
    const cached = this.records.get(key);
    if (cached && cached.manifest === manifest) return cached;
    const list = attributes?.attributes ?? [];
    const record: ModelRecord = {
      id,
      manifestPath,
      manifest,
      attributes,
      byName: new Map(list.map((a) => [a.name, a])),
      vectors: new Map(list.map((a) => [a.name, a.vector])),
      steer: steerAttributes({ attributes: list }),
      names: new Set(list.map((a) => a.name)),
    };
    this.records.set(key, record);
    return record;
  }

  private async required(assets: AssetFetcher, origin: string, path: string, parse: Parse): Promise<unknown> {
    try {
      return await this.file(assets, origin, path, parse);
    } catch (e) {
      if (e instanceof MissingFile) throw new DataError(`${path} is named by the deployed bundle but the site does not serve it`);
      throw e;
    }
  }

  private async file(assets: AssetFetcher, origin: string, path: string, parse: Parse): Promise<unknown> {
    const cached = this.files.get(origin + path);
    if (cached && this.now() - cached.checkedAt < this.revalidateMs) return cached.value;
    // Each request revalidates on its own: workerd does not let one request await
    // I/O that another request started, so refreshes are not shared.
    return this.fetchFile(assets, origin, path, parse, cached);
  }

  /** One conditional GET through the asset server, tried again once if the connection fails. */
  private async fetchWithRetry(assets: AssetFetcher, origin: string, path: string, cached: CachedFile | undefined, attempts: number): Promise<Response> {
    const init: RequestInit = cached?.etag ? { headers: { 'If-None-Match': cached.etag } } : {};
    try {
      return await assets.fetch(new Request(new URL(path, origin).toString(), init));
    } catch (e) {
      if (attempts <= 1) throw e;
      return this.fetchWithRetry(assets, origin, path, cached, attempts - 1);
    }
  }

  private async fetchFile(assets: AssetFetcher, origin: string, path: string, parse: Parse, cached: CachedFile | undefined): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchWithRetry(assets, origin, path, cached, 2);
    } catch (e) {
      // A failed revalidation is no reason to fail the request: the copy in hand is at most one deploy old.
      if (cached) {
        console.warn(`api: revalidating ${path} failed (${describe(e)}); serving the copy in memory`);
        return cached.value;
      }
      throw new DataError(`reading ${path} from the site failed: ${describe(e)}`);
    }
    if (response.status === 304 && cached) {
      cached.checkedAt = this.now();
      return cached.value;
    }
    const type = response.headers.get('Content-Type') ?? '';
    // Without a 404.html the asset server answers unknown paths with the site's index.html.
    if (response.status === 404 || (response.ok && type.startsWith('text/html'))) {
      await response.body?.cancel();
      this.files.delete(origin + path);
      throw new MissingFile(path);
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (cached) {
        console.warn(`api: revalidating ${path} got HTTP ${response.status}; serving the copy in memory`);
        return cached.value;
      }
      throw new DataError(`reading ${path} from the site failed with HTTP ${response.status}`);
    }
    const text = await response.text();
    const etag = response.headers.get('ETag');
    const key = etag ?? text;
    if (cached && cached.key === key) {
      cached.checkedAt = this.now();
      return cached.value;
    }
    let value: unknown;
    try {
      value = parse(JSON.parse(text));
    } catch (e) {
      if (e instanceof SyntaxError) throw new DataError(`${path} is not valid JSON`);
      if (e instanceof BundleError) throw new DataError(`the deployed bundle is invalid: ${e.message}`);
      throw e;
    }
    this.files.set(origin + path, { key, etag, value, checkedAt: this.now() });
    return value;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseIndex(json: unknown): string[] {
  const models = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { models?: unknown }).models : undefined;
  if (!Array.isArray(models) || !models.every((m): m is string => typeof m === 'string' && ID_PATTERN.test(m))) {
    throw new DataError(`${MODELS_INDEX_PATH} must be {"models": [ids]} with ids matching ${ID_PATTERN}`);
  }
  return [...new Set(models)];
}

/** One store per isolate: the routes share it, so a bundle is parsed once, not per request. */
export const bundles = new BundleStore();

/** The model named in the path, or 404 when it is not deployed. */
export async function requireModel(assets: AssetFetcher, origin: string, id: string): Promise<ModelRecord> {
  const model = await bundles.model(assets, origin, id);
  if (!model) throw new ApiError(404, `unknown model ${id}; GET /api/models lists the models deployed`);
  return model;
}

/** How /api/models and /api/models/:id describe a model. URLs are absolute so any client can follow them. */
export function modelSummary(model: ModelRecord, origin: string) {
  const { manifest } = model;
  const attributeCount = model.attributes?.attributes.length ?? 0;
  return {
    id: model.id,
    title: manifest.title,
    version: manifest.version,
    latentDim: manifest.latentDim,
    image: manifest.image,
    attributeCount,
    manifest: new URL(model.manifestPath, origin).toString(),
    attributes: attributeCount > 0 ? new URL(`/api/models/${model.id}/attributes`, origin).toString() : null,
  };
}
