/**
 * The graders' own test suite (issue 16 §3): for each lab, the reference fix PASSes and every
 * known-wrong fix under test/labs/<id>/wrong/ gets the verdict and the pointed message its header
 * promises ("Expect: FAIL /regex/" or "Expect: PASS /regex/"). Each fixture is graded as a patch on
 * HEAD, so the builds share every object file but the one or two the patch changes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, formatReport, referencePatches } from '../../host/lab/grade.node.js';
import { LABS } from '../../host/lab/specs.js';
import { patchSide } from '../../host/lab/tree.node.js';
import { packageRoot } from '../../host/spdk/node-loader.js';

const root = packageRoot();
const SEEDS = 2;

interface Fixture {
  name: string;
  files: string[];
  expect: 'PASS' | 'FAIL';
  message?: RegExp;
}

function expectation(text: string, name: string): { expect: 'PASS' | 'FAIL'; message?: RegExp } {
  const m = /^Expect: (PASS|FAIL)(?: \/(.*)\/)?$/m.exec(text);
  if (m === null) throw new Error(`${name}: no "Expect: PASS|FAIL /regex/" line in its header`);
  return { expect: m[1] as 'PASS' | 'FAIL', message: m[2] === undefined ? undefined : new RegExp(m[2]) };
}

function fixtures(id: string): Fixture[] {
  const dir = join(root, 'test/labs', id);
  const own = join(dir, 'reference.patch');
  const ref = existsSync(own) ? [own] : referencePatches(root, id);
  const out: Fixture[] = [{ name: existsSync(own) ? `test/labs/${id}/reference.patch` : 'the reference (spdk-patches/)', files: ref, expect: 'PASS' }];
  for (const f of readdirSync(join(dir, 'wrong')).filter((x) => x.endsWith('.patch')).sort()) {
    const file = join(dir, 'wrong', f);
    out.push({ name: `wrong/${f}`, files: [file], ...expectation(readFileSync(file, 'utf8'), f) });
  }
  return out;
}

const haveEmcc = (): boolean => (process.env['PATH'] ?? '').split(':').some((d) => existsSync(join(d, 'emcc')));

describe.skipIf(!haveEmcc())('lab graders against known fixes', () => {
  for (const id of Object.keys(LABS)) {
    describe(id, () => {
      const list = fixtures(id);
      it(`keeps at least five known-wrong fixes (${list.length - 1})`, () => {
        expect(list.filter((f) => f.expect === 'FAIL').length).toBeGreaterThanOrEqual(5);
      });
      for (const f of list) {
        it(`${f.name}: ${f.expect}${f.message !== undefined ? ` ${f.message.source.slice(0, 60)}` : ''}`, async () => {
          const rep = await check(root, id, patchSide(root, f.files), { seeds: SEEDS, failFast: f.expect === 'FAIL' });
          const text = formatReport(rep, true);
          expect(rep.error, text).toBeUndefined();
          expect(rep.pass ? 'PASS' : 'FAIL', text).toBe(f.expect);
          if (f.message !== undefined) expect(text).toMatch(f.message);
          // What a patch changes outside the lab's files is reported, never built.
          const outside = f.files.flatMap((p) => [...readFileSync(p, 'utf8').matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]!));
          for (const p of outside) expect([...rep.taken, ...rep.ignored].some((x) => x.startsWith(p))).toBe(true);
        }, 900_000);
      }
    });
  }
});
