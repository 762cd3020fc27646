/** The host's modules read top-down: no circle of imports anywhere under host/ (issue 12 §4),
 *  type-only imports included. The fixtures prove the check finds circles and ignores look-alikes. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, specifiers } from './support/import-graph.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

describe('import cycles', () => {
  it('host/ has none', () => {
    const g = importGraph(here('../../host'));
    expect(g.size).toBeGreaterThan(100);
    expect(importCycles(g)).toEqual([]);
  });

  it('finds a circle closed by a type-only import and a re-export', () => {
    const g = importGraph(here('./fixtures/import-cycle/circle'));
    expect(g.get('leaf.ts')).toEqual([]); // an import in a comment or a string is not an edge
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('accepts a diamond without a circle', () => {
    const g = importGraph(here('./fixtures/import-cycle/clean'));
    expect(g.get('top.ts')).toEqual(['base.ts', 'mid.ts']);
    expect(importCycles(g)).toEqual([]);
  });

  it('reads every form of module specifier', () => {
    const src = [
      "import * as x from './x.js';",
      "import type { T } from './t.js';",
      'import {',
      '  a,',
      "  type B,",
      "} from './multi.js';",
      "export { y } from './y.js';",
      "export * from './star.js';",
      "import './side.js';",
      "const m = await import('./dyn.js');",
    ].join('\n');
    expect(specifiers(src).sort()).toEqual(['./dyn.js', './multi.js', './side.js', './star.js', './t.js', './x.js', './y.js']);
  });
});
