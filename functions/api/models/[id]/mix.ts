/**
 * GET /api/models/:id/mix?Smiling=0.8&Blond_Hair=-0.5[&keep=Eyeglasses,Mustache|all]:
 * the latent offset of slider settings, so a client needs one request per
 * slider change. Weights are slider units: ±1 is each attribute's calibrated
 * scale (clearly added / clearly removed). `keep` names attributes to hold
 * as they are: each steered direction is replaced by its conditional form
 * (lib/steer.ts); `all` keeps every attribute not steered. `from` is the
 * face's state (one of the attribute file's `states`, read from the face by
 * lib/steer.ts faceState): adding a state attribute then follows its
 * calibrated transport from that state. `z` is the face itself, encoded as in
 * share links (lib/latent-url.ts encodeLatent): adding an attribute that has a
 * face-dependent transport then follows it from that face (its `move` says
 * "transport"); without z such a term moves along its direction and says so.
 * Given z without from, the face's state is read from z.
 */
import { ApiError, checkModelId, pathParam, queryPairs, route, shown } from '../../../_lib/http.ts';
import { requireModel } from '../../../_lib/store.ts';
import { MAX_MIX_TERMS, norm, parseMixTerms } from '../../../../lib/attributes.ts';
import { decodeLatent } from '../../../../lib/latent-url.ts';
import { faceState, steerOffset, termMove } from '../../../../lib/steer.ts';

/** The `keep` parameter: a comma-separated list of known attributes, or `all`. */
function parseKeep(values: readonly string[], known: ReadonlySet<string>): string[] | null {
  if (values.length === 0) return null;
  if (values.length > 1) throw new ApiError(400, 'keep is given more than once; list the attributes in one, comma-separated');
  const raw = values[0]!.trim();
  if (raw === 'all') return [...known];
  if (raw === '') throw new ApiError(400, 'keep is empty: name the attributes to keep, comma-separated, or keep=all');
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) if (!known.has(n)) throw new ApiError(404, `keep names unknown attribute ${shown(n)}`);
  return names;
}

/** The `from` parameter: one of the file's states. */
function parseFrom(values: readonly string[], states: readonly string[] | undefined): string | null {
  if (values.length === 0) return null;
  if (values.length > 1) throw new ApiError(400, 'from is given more than once; name the one state the face is in');
  const state = values[0]!.trim();
  if (state === '') throw new ApiError(400, 'from is empty: name the state the face is in');
  if (!states) throw new ApiError(400, 'from is not taken by this model: its attributes have no states');
  if (!states.includes(state)) throw new ApiError(404, `from names ${shown(state)}, which is not one of the states ${states.join(', ')}`);
  return state;
}

/** The `z` parameter: the face, as share links encode it, for this model's latent size. */
function parseFace(values: readonly string[], latentDim: number): Float32Array | null {
  if (values.length === 0) return null;
  if (values.length > 1) throw new ApiError(400, 'z is given more than once; pass the one face to steer');
  const point = decodeLatent(values[0]!.trim(), latentDim);
  if (!point.ok) throw new ApiError(400, `z: ${point.message}`);
  return point.z;
}

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  const all = queryPairs(url);
  const pairs = all.filter(([k]) => k !== 'keep' && k !== 'from' && k !== 'z');
  // Counted before any name is looked at, so a long list of unknown names is still "too many".
  if (pairs.length > MAX_MIX_TERMS) throw new ApiError(400, `too many attributes in one mix: ${pairs.length} (at most ${MAX_MIX_TERMS})`);
  const model = await requireModel(context.env.ASSETS, url.origin, id);
  if (!model.attributes) throw new ApiError(404, `model ${id} has no attribute vectors to mix`);
  const parsed = parseMixTerms(pairs, model.names);
  if (!parsed.ok) throw new ApiError(parsed.status, parsed.error);
  const keep = parseKeep(all.filter(([k]) => k === 'keep').map(([, v]) => v), model.names);
  const { latentDim } = model.manifest;
  const face = parseFace(all.filter(([k]) => k === 'z').map(([, v]) => v), latentDim);
  const states = model.attributes.states;
  const from = parseFrom(all.filter(([k]) => k === 'from').map(([, v]) => v), states) ?? (face && states ? faceState(model.steer, states, face) : null);
  const mixed = steerOffset(model.steer, parsed.terms, latentDim, keep ?? undefined, from, face);
  return {
    model: id,
    modelVersion: model.manifest.version,
    attributesVersion: model.attributes.version ?? null,
    latentDim,
    terms: parsed.terms.map((t) => {
      const move = termMove(model.steer.get(t.name)!, t.weight, from, face);
      return { ...t, scale: move.scale, from: move.from, move: move.kind };
    }),
    keep: keep ?? [],
    from,
    face: face !== null,
    norm: float32Json(norm(mixed)),
    // Nine significant digits round-trip a float32 and keep the JSON short.
    vector: Array.from(mixed, float32Json),
  };
});

function float32Json(x: number): number {
  return Number(x.toPrecision(9));
}
