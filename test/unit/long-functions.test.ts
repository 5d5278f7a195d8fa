import { describe, expect, it } from 'vitest';
import { longFunctions } from '../../bench/long-functions.ts';

const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('long-functions', () => {
  it('lists each function over the limit with its name, first line and length, nested ones on their own', () => {
    const text = [
      'export function short() {', body(3), '}',
      'export function outer() {', body(4), '  const inner = () => {', body(6), '  };', '}',
      'class Studio {', '  start() {', body(5), '  }', '}',
    ].join('\n');
    expect(longFunctions('x.ts', text, 6)).toEqual([
      { file: 'x.ts', line: 6, name: 'outer', lines: 14 },
      { file: 'x.ts', line: 11, name: 'inner', lines: 8 },
      { file: 'x.ts', line: 21, name: 'Studio.start', lines: 7 },
    ]);
  });

  it('finds nothing when every function fits', () => {
    expect(longFunctions('x.ts', `function f() {\n${body(5)}\n}`, 120)).toEqual([]);
  });
});
