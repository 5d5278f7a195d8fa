import { describe, expect, it } from 'vitest';
import { centredFill } from '../../site/scripts/studio/centred-range.ts';

describe('centred range fill', () => {
  it('fills from 0 in the middle to the value, either way', () => {
    expect(centredFill(0, -4, 4)).toEqual({ from: 0.5, to: 0.5 });
    expect(centredFill(2, -4, 4)).toEqual({ from: 0.5, to: 0.75 });
    expect(centredFill(-4, -4, 4)).toEqual({ from: 0, to: 0.5 });
    expect(centredFill(4, -4, 4)).toEqual({ from: 0.5, to: 1 });
  });

  it('clamps values outside the range and puts 0 where it lies on a lopsided one', () => {
    expect(centredFill(9, -4, 4)).toEqual({ from: 0.5, to: 1 });
    expect(centredFill(1, -1, 3)).toEqual({ from: 0.25, to: 0.5 });
    // A range that does not contain 0 fills from its nearer end.
    expect(centredFill(3, 1, 5)).toEqual({ from: 0, to: 0.5 });
  });

  it('fills nothing for a broken range or value', () => {
    expect(centredFill(NaN, -4, 4)).toEqual({ from: 0, to: 0 });
    expect(centredFill(1, 4, 4)).toEqual({ from: 0, to: 0 });
  });
});
