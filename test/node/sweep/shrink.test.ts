/**
 * `sweep --shrink` (issue 15 §4): the search finds the smallest values that still fail, skips
 * values the replay's cross-checks refuse, stays within its budget; as a user runs it, the printed
 * command is smaller than the swept one and reproduces the same failure.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../../host/scenarios/index.js';
import { resolveParams } from '../../../host/scenarios/params.js';
import { candidates, shrink } from '../../../host/sweep/shrink.js';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { nodeScript } from '../support/node-script.js';

const cli = nodeScript(join(packageRoot(), 'dist', 'host', 'cli.js'), 300_000);
const zt = findScenario('zcopy-threshold');

describe('shrink search', () => {
  it('candidates run from the minimum up, halving the gap, and end just below the current value', () => {
    expect(candidates(1, 16)).toEqual([1, 9, 13, 15]);
    expect(candidates(1, 2)).toEqual([1]);
    expect(candidates(5, 5)).toEqual([]);
  });

  it('finds the smallest failing values of each shrinkable parameter', async () => {
    const start = resolveParams(zt, { 'io-count': '40', 'queue-depth': '8', faults: 'swarm', 'fault-count': '12' });
    // Fails while io-count >= 5, queue-depth >= 3 and fault-count >= 4: the search must land there.
    const r = await shrink(zt, start, async (p) => (p['io-count'] as number) >= 5 && (p['queue-depth'] as number) >= 3 && (p['fault-count'] as number) >= 4);
    expect(r.smallest).toMatchObject({ 'io-count': 5, 'queue-depth': 3, 'fault-count': 4 });
    expect(r.shrunk).toEqual({ 'io-count': [40, 5], 'queue-depth': [8, 3], 'fault-count': [12, 4] });
    expect(r.smallest['io-size']).toBe(start['io-size']);
    for (const t of r.trials.filter((x) => x.failed)) expect(t.params['io-count'] as number).toBeGreaterThanOrEqual(5);
  });

  it('never tries a run the replay refuses, and stops at its budget', async () => {
    // io-size x io-count must stay within 256 MiB: nothing is refused going down; a budget of 3 stops early.
    const start = resolveParams(zt, { 'io-count': '1000' });
    const seen: number[] = [];
    const r = await shrink(zt, start, async (p) => {
      seen.push(p['io-count'] as number);
      return false;
    }, 3);
    expect(r.trials).toHaveLength(3);
    expect(seen).toEqual([1, 501, 751]);
    expect(r.shrunk).toEqual({});
  });
});

describe('spdk-wasm sweep --shrink', () => {
  it('prints the smallest replay, and that command reproduces', () => {
    const r = cli('sweep', 'zcopy-threshold', '--seeds', '2', '--variant', 'unpatched', '--param', 'io-count=24', '--param', 'queue-depth=4', '--shrink', '--workers', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { shrinks: { replay: string; shrunk: Record<string, [number, number]> }[] };
    expect(out.shrinks).toHaveLength(1);
    const s = out.shrinks[0]!;
    expect(s.shrunk['io-count']![1]).toBeLessThan(24);
    expect(s.replay).toMatch(/^npx spdk-wasm run zcopy-threshold --variant unpatched --seed 2/);
    const again = cli(...s.replay.replace(/^npx spdk-wasm /, '').split(' '), '--expect', 'reproduced');
    expect(again.status, again.stdout + again.stderr).toBe(0);
  });

  it('with nothing reproduced says so', () => {
    const r = cli('sweep', 'zcopy-threshold', '--seeds', '1..2', '--variant', 'patched', '--param', 'io-count=2', '--shrink', '--workers', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no point reproduced; nothing to shrink/);
  });
});
