/**
 * GET /api/models/:id/attributes: the attribute names with their example
 * counts, how each direction was found, its calibrated scale (the latent
 * distance of slider +1 and -1) and what else its edit was measured to change;
 * `states` (hair colour, bald, hat) with each state's probe, and the start
 * states each state attribute has its own transport from; `transport` (its
 * kind, "gaussian" or "network", and scale) for an attribute added by a
 * face-dependent move, which /mix applies when given the face as z=.
 */
import { checkModelId, pathParam, queryPairs, route } from '../../../../_lib/http.ts';
import { requireModel } from '../../../../_lib/store.ts';
import { MAX_ABS_WEIGHT } from '../../../../../lib/attributes.ts';
import { isNetTransport } from '../../../../../lib/bundle.ts';

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  queryPairs(url, []);
  const model = await requireModel(context.env.ASSETS, url.origin, id);
  const attributes = model.attributes?.attributes ?? [];
  return {
    model: id,
    modelVersion: model.manifest.version,
    latentDim: model.manifest.latentDim,
    attributesVersion: model.attributes?.version ?? null,
    calibrated: attributes.length > 0 && attributes.every((a) => a.scale !== undefined),
    sliderRange: MAX_ABS_WEIGHT,
    states: model.attributes?.states ?? null,
    attributes: attributes.map(({ name, positives, negatives, norm, method, scale, group, alsoChanges, normal, bias, from, transport }) => ({
      name,
      positives,
      negatives,
      norm,
      method: method ?? 'mean-difference',
      scale: scale ?? null,
      group: group ?? null,
      alsoChanges: alsoChanges ?? null,
      // States carry their probe, so a client can tell which state a face is in (lib/steer.ts faceState) and ask /mix with from=.
      normal: bias !== undefined ? normal ?? null : null,
      bias: bias ?? null,
      from: from?.map((t) => ({ state: t.state, scale: t.scale })) ?? null,
      transport: transport ? { kind: isNetTransport(transport) ? 'network' : 'gaussian', scale: transport.scale } : null,
      url: new URL(`/api/models/${id}/attributes/${name}`, url.origin).toString(),
    })),
    omitted: model.attributes?.omitted ?? [],
  };
});
