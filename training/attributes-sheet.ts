/**
 * The edit sheet (attribute-edits.png): each row a held-out face, the first
 * column its reconstruction, then each attribute of EDIT_SHEET_ATTRIBUTES
 * toggled at slider ±1 (added where the face lacks it, removed where it has
 * it), so every cell shows the edit a visitor gets at a full slider: the
 * same steerOffset the mix API runs, from the face's state where the file
 * has states.
 */
import type * as tf from '@tensorflow/tfjs';
import { EDIT_SHEET_ATTRIBUTES } from '../lib/attributes.ts';
import type { AttributesFile } from '../lib/bundle.ts';
import { faceState, steerAttributes, steerOffset } from '../lib/steer.ts';
import type { LabelledCodes } from './directions.ts';
import { decodeToBytes, tile } from './report.ts';

export async function attributeSheet(decoder: tf.LayersModel, faces: LabelledCodes, file: AttributesFile, rows = 6): Promise<Uint8Array> {
  const { d } = faces;
  const steer = steerAttributes(file);
  const shown = EDIT_SHEET_ATTRIBUTES.filter((n) => steer.has(n));
  const cols = shown.length + 1;
  const z = new Float32Array(rows * cols * d);
  for (let f = 0; f < rows; f++) {
    const base = faces.z.subarray(f * d, f * d + d);
    const state = file.states ? faceState(steer, file.states, base) : null;
    for (let c = 0; c < cols; c++) {
      const a = c === 0 ? null : steer.get(shown[c - 1]!)!;
      const present = a ? faces.labels[f * faces.names.length + faces.names.indexOf(a.name)]! > 0 : false;
      const offset = a ? steerOffset(steer, [{ name: a.name, weight: present ? -1 : 1 }], d, undefined, state, base) : new Float32Array(d);
      for (let q = 0; q < d; q++) z[(f * cols + c) * d + q] = base[q]! + offset[q]!;
    }
  }
  const { bytes, h, w, c } = decodeToBytes(decoder, z, d);
  return tile(bytes, rows * cols, h, w, c, cols).png;
}
