/**
 * GET /api/models/:id/attributes/:name: one attribute's direction with its
 * calibrated scale (slider +1 = vector × scale.add), method, probe normal and
 * group (format-2 bundles; null for older ones); for a state attribute (hair
 * colour, bald, hat) also its probe bias and the transports used to add it
 * from each other state (`from`: state, vector, scale); for an attribute added
 * by a face-dependent move, that move (`transport`, with its `kind`): a
 * Gaussian transport's matrix, d×d row-major, offset and scale (slider +1
 * moves z by scale × (z·matrix + offset − z)), or a network's layer widths,
 * weights (lib/edit-net.ts: per layer the kernel, inputs × outputs row-major,
 * then the bias; ReLU between layers), pair count and scale (slider +1 moves
 * z by scale × net(z)); /mix applies either given the face as z=.
 * ?format=json (default) gives the numbers; ?format=f16 gives little-endian
 * float16 bytes in base64url, a quarter of the size (decode with lib/float16.ts).
 */
import { ApiError, checkAttributeName, checkModelId, pathParam, queryPairs, route, shown } from '../../../../_lib/http.ts';
import { requireModel } from '../../../../_lib/store.ts';
import { toBase64Url } from '../../../../../lib/base64url.ts';
import { encodeHalf } from '../../../../../lib/float16.ts';
import { isNetTransport, type FaceTransport } from '../../../../../lib/bundle.ts';
import { decodeNet } from '../../../../../lib/edit-net.ts';

const FORMATS = ['json', 'f16'] as const;

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  const name = checkAttributeName(pathParam(context.params, 'name'));
  queryPairs(url, ['format']);
  const format = url.searchParams.get('format') ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) throw new ApiError(400, `format must be json or f16, got ${shown(format)}`);
  const model = await requireModel(context.env.ASSETS, url.origin, id);
  if (!model.attributes) throw new ApiError(404, `model ${id} has no attribute vectors`);
  const attribute = model.byName.get(name);
  if (!attribute) throw new ApiError(404, `unknown attribute ${name} of model ${id}; GET /api/models/${id}/attributes lists them`);
  const { positives, negatives, norm, vector, method, scale, normal, group, alsoChanges, bias, from, transport } = attribute;
  const head = {
    model: id, modelVersion: model.manifest.version, attributesVersion: model.attributes.version ?? null, name, latentDim: model.manifest.latentDim,
    positives, negatives, norm, method: method ?? 'mean-difference', scale: scale ?? null, group: group ?? null, alsoChanges: alsoChanges ?? null,
    bias: bias ?? null, format,
  };
  return format === 'f16'
    ? {
      ...head, float16: toBase64Url(encodeHalf(vector)), normal: normal ? toBase64Url(encodeHalf(normal)) : null,
      from: from?.map((t) => ({ state: t.state, scale: t.scale, float16: toBase64Url(encodeHalf(t.vector)) })) ?? null,
      transport: !transport ? null : isNetTransport(transport)
        ? { kind: 'network', scale: transport.scale, net: transport.net }
        : { kind: 'gaussian', scale: transport.scale, matrix: toBase64Url(encodeHalf(transport.matrix)), offset: toBase64Url(encodeHalf(transport.offset)) },
    }
    : { ...head, vector, normal: normal ?? null, from: from ?? null, transport: transport ? transportJson(transport, model.manifest.latentDim) : null };
});

/** A face-dependent move as plain numbers: the network's weights decoded. */
function transportJson(t: FaceTransport, d: number): Record<string, unknown> {
  if (!isNetTransport(t)) return { kind: 'gaussian', ...t };
  const { sizes, weights } = decodeNet(t.net, d);
  return { kind: 'network', scale: t.scale, net: { sizes, pairs: t.net.pairs, weights: Array.from(weights) } };
}
