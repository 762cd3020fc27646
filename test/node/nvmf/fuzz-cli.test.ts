/**
 * `spdk-wasm fuzz` as a user runs it (issue 15 §6): the cases spread over the worker pool with
 * per-family counts, every new family fired and answered as upstream answers, the target's
 * resources counted back to idle after every connection, the same counts on every run, and a
 * case replayed from its id. The 100,000-case asan run is its own CI step (.ci/run).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeReports, parseFuzzId } from '../../../host/fuzz/command.node.js';
import { fuzzId, runFuzz } from '../../../host/fuzz/fuzz-runner.node.js';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { nodeScript } from '../support/node-script.js';

const cli = nodeScript(join(packageRoot(), 'dist', 'host', 'cli.js'), 300_000);

const NEW_FAMILIES = ['pdo-beyond-plen', 'icd-zero-length', 'icreq-twice', 'second-icreq', 'h2c-unknown-ttag', 'hlen-for-type',
  'digests-on-hdgst-flip', 'digests-on-ddgst-flip', 'digests-on-h2c-ddgst-flip', 'split-at-boundary', 'split-every-byte'];

interface Out { cases: number; failures: unknown[]; resourceChecks: number; families: Record<string, number>; outcomes: Record<string, number>; termFes: Record<string, number>; shares: number; heapLeaks: string[] }

describe('spdk-wasm fuzz', () => {
  let first: Out;

  it('6000 cases in 3 shares on 2 workers: no finding, every family counted, resources checked after every connection', () => {
    const r = cli('fuzz', '--cases', '6000', '--workers', '2', '--json');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    first = JSON.parse(r.stdout) as Out;
    expect(first).toMatchObject({ cases: 6000, failures: [], resourceChecks: 6000, shares: 3, heapLeaks: [] });
    expect(Object.values(first.families).reduce((a, b) => a + b, 0)).toBe(6000);
    for (const f of NEW_FAMILIES) expect(first.families[f] ?? 0, f).toBeGreaterThan(10);
  });

  it('the same flags give the same counts (each share is its own seed on its own target)', () => {
    const again = JSON.parse(cli('fuzz', '--cases', '6000', '--workers', '1', '--json').stdout) as Out;
    expect(again.families).toEqual(first.families);
    expect(again.outcomes).toEqual(first.outcomes);
    expect(again.termFes).toEqual(first.termFes);
  });

  it('the table a person reads names the families and the count', () => {
    const r = cli('fuzz', '--cases', '400', '--workers', '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^family\s+cases$/m);
    expect(r.stdout).toMatch(/400 cases \(\d+ families\) into the release target in [\d.]+ s wall on 1 worker/);
    expect(r.stdout).toMatch(/resource counts checked after 400 connections\n0 findings/);
  });

  it('--replay reruns a seed up to one case and prints that case', async () => {
    const r = cli('fuzz', '--replay', 'release/3/57');
    expect(r.status, r.stderr).toBe(0);
    const direct = await runFuzz(3, 58);
    expect(r.stdout).toContain(`case 57 of seed 3 on the release target (after 57 earlier cases): ${direct.last!.family}`);
    expect(r.stdout).toContain(`input: ${direct.last!.input}`);
    expect(r.stdout).toMatch(/result: passed on this build/);
    expect(parseFuzzId(fuzzId('asan', 17, 2041))).toEqual({ flavor: 'asan', seed: 17, index: 2041 });
  });

  it('merged shares add up, and a finding keeps its replay line', () => {
    const base = { flavor: 'asan', resourceChecks: 1, outcomes: {}, termFes: {}, familyMs: {}, heapGrowth: 0, virtualUs: 0 };
    const m = mergeReports([
      { ...base, seed: 1, cases: 2, families: { a: 2 }, failures: [] },
      { ...base, seed: 2, cases: 1, families: { a: 1, b: 1 }, failures: [{ index: 0, family: 'b', problems: ['x'], replay: 'npx spdk-wasm fuzz --replay asan/2/0' }] },
    ]);
    expect(m).toMatchObject({ cases: 3, resourceChecks: 2, families: { a: 3, b: 1 } });
    expect(m.failures[0]!.replay).toBe('npx spdk-wasm fuzz --replay asan/2/0');
  });

  it.each([
    [['fuzz', '--cases', '0'], /--cases must be an integer in 1\.\./],
    [['fuzz', '--cases', 'many'], /--cases must be an integer/],
    [['fuzz', '--flavor', 'tsan'], /--flavor must be release or asan/],
    [['fuzz', '--replay', 'asan/7'], /--replay takes FLAVOR\/SEED\/INDEX/],
    [['fuzz', '--replay'], /--replay needs/],
    [['fuzz', '--frob'], /unknown argument --frob/],
  ])('bad input %j: one line, exit 2', (args, msg) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(msg);
  });
});
