/**
 * The web-platform globals lib/ may use: browsers, Node and workerd all
 * provide them, so lib/ is checked against these alone (lib/tsconfig.json),
 * with neither DOM nor Node types. Only the members lib/ uses are declared.
 */
declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | [string, string][]);
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  toString(): string;
}
