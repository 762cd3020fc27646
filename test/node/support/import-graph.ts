/**
 * The relative import graph of a TypeScript source tree, and its cycles. A small scanner instead
 * of madge or dependency-cruiser: madge 8 declares a peer dependency on TypeScript 5 (npm refuses
 * it next to TypeScript 7) and parses through TypeScript's JS compiler API, which TypeScript 7's
 * native package no longer ships; dependency-cruiser 18 needs Node 22. Every module specifier
 * counts, `import type` and `export ... from` included: a type-only circle still means two files
 * that cannot be read one after the other.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** File (relative to the root, '/' separated) -> the files it imports. */
export type ImportGraph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Comments and string/template contents could hold text that looks like an import. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

/** Module specifiers of static imports/re-exports (`from '...'`, side-effect `import '...'`)
 *  and dynamic `import('...')`. */
export function specifiers(src: string): string[] {
  const code = stripComments(src);
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1/gm,
    /^\s*import\s*(['"])([^'"]+)\1/gm,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[2]!);
  return out;
}

/** Builds the graph of `root`'s .ts files; only relative specifiers inside `root` are edges
 *  ('./x.js' is the file x.ts, as NodeNext resolution writes it). */
export function importGraph(root: string): ImportGraph {
  const base = resolve(root);
  const files = sourceFiles(base);
  const known = new Set(files);
  const g: ImportGraph = new Map();
  for (const f of files) {
    const deps = new Set<string>();
    for (const spec of specifiers(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
      if (known.has(target)) deps.add(relative(base, target).split('\\').join('/'));
    }
    g.set(relative(base, f).split('\\').join('/'), [...deps].sort());
  }
  return g;
}

/** Strongly connected components with more than one file (or a file importing itself): each is a
 *  circle of imports. Tarjan's algorithm, iterative so deep trees do not overflow the stack. */
export function importCycles(g: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const start of g.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const deps = g.get(top.v) ?? [];
      if (top.i < deps.length) {
        const w = deps[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
          if (w === top.v) break;
        }
        if (comp.length > 1 || (g.get(top.v) ?? []).includes(top.v)) out.push(comp.sort());
      }
    }
  }
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
