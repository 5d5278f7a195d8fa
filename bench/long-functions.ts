/**
 * npm run long-functions -- [--max N] [folders...]
 *
 * Lists the functions longer than --max lines (default 120) in the given
 * folders (default site, training, lib), longest first, found with the
 * TypeScript compiler's own parser: declarations, methods, constructors,
 * accessors, arrow functions and function expressions. A nested function is
 * listed on its own and also counts towards the function around it. Exits 1
 * when any is found, so it can gate a change.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

const SKIP = new Set(['node_modules', 'dist', '.astro']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP.has(name)) out.push(...sourceFiles(path));
    } else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** What a reader would call the function: its own name, the variable or property it is assigned to, or the call it is passed to. */
function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name) || ts.isPrivateIdentifier(named.name))) {
    const owner = node.parent && ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return owner + named.name.text;
  }
  if (ts.isConstructorDeclaration(node)) return `${node.parent.name?.text ?? 'class'}.constructor`;
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(source).slice(0, 40)})`;
  return '(anonymous)';
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)
    || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node);
}

/** The functions in one file's text longer than `max` lines (first line to last, both counted). */
export function longFunctions(file: string, text: string, max: number): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node) && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (last - first + 1 > max) found.push({ file, line: first + 1, name: nameOf(node, source), lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { max: { type: 'string', default: '120' } }, allowPositionals: true, strict: true });
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new Error(`--max must be a whole number >= 1, got ${JSON.stringify(values.max)}`);
  const folders = positionals.length ? positionals : ['site', 'training', 'lib'];
  const found = folders
    .flatMap((folder) => sourceFiles(folder))
    .flatMap((file) => longFunctions(relative(process.cwd(), file), readFileSync(file, 'utf8'), max))
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
  for (const f of found) console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
  console.log(found.length ? `${found.length} function${found.length === 1 ? '' : 's'} over ${max} lines in ${folders.join(', ')}.` : `No function over ${max} lines in ${folders.join(', ')}.`);
  if (found.length) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
