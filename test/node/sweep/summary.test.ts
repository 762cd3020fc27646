/** The sweep summary: counts by verdict, Wilson intervals, the first failing seed, file checks. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../host/scenarios/params.js';
import { checkBuilds, parseRecords, type SweepRecord, type SweepVerdict } from '../../../host/sweep/record.js';
import { summarise, uniqueRecords, wilson } from '../../../host/sweep/summary.js';

function rec(index: number, seed: number, verdict: SweepVerdict, extra: Partial<SweepRecord> = {}): SweepRecord {
  return { v: 1, index, key: `z|unpatched|${seed}|defaults`, scenario: 'z', variant: 'unpatched', seed, point: {}, verdict, summary: '', build: 'b1', wallMs: 1, replay: `replay ${seed}`, ...extra };
}

describe('wilson', () => {
  it('matches the textbook values and stays inside 0..1 at the edges', () => {
    const [lo, hi] = wilson(20, 20);
    expect(lo).toBeCloseTo(0.8389, 3);
    expect(hi).toBe(1);
    const [lo0, hi0] = wilson(0, 20);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.1611, 3);
    const [a, b] = wilson(5, 10);
    expect(a).toBeCloseTo(0.2366, 3);
    expect(b).toBeCloseTo(0.7634, 3);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });
});

describe('summarise', () => {
  it('counts each verdict; inconclusive and error runs are not evidence for the rate', () => {
    const [p] = summarise([rec(0, 1, 'reproduced'), rec(1, 2, 'clean'), rec(2, 3, 'inconclusive'), rec(3, 4, 'error'), rec(4, 5, 'clean')]);
    expect(p!.counts).toEqual({ reproduced: 1, clean: 2, inconclusive: 1, error: 1 });
    expect(p!.runs).toBe(5);
    expect(p!.rate).toBeCloseTo(1 / 3);
    expect(p!.firstFailing).toEqual({ seed: 1, verdict: 'reproduced', replay: 'replay 1' });
  });

  it('names the lowest reproducing seed, whatever order the records came in', () => {
    const [p] = summarise([rec(9, 9, 'reproduced'), rec(3, 3, 'reproduced'), rec(1, 1, 'clean')]);
    expect(p!.firstFailing?.seed).toBe(3);
  });

  it('a point with only errors names its first error; a clean point names nothing', () => {
    expect(summarise([rec(0, 2, 'error'), rec(1, 1, 'error')])[0]!.firstFailing).toMatchObject({ seed: 1, verdict: 'error' });
    expect(summarise([rec(0, 1, 'clean')])[0]!.firstFailing).toBeUndefined();
  });

  it('keeps one record per job key (a resumed file may repeat one)', () => {
    expect(uniqueRecords([rec(0, 1, 'clean'), rec(0, 1, 'reproduced')])).toHaveLength(1);
    expect(summarise([rec(0, 1, 'clean'), rec(0, 1, 'clean')])[0]!.runs).toBe(1);
  });
});

describe('results files', () => {
  it('a truncated or foreign line is an error naming the file and line', () => {
    const good = JSON.stringify(rec(0, 1, 'clean'));
    expect(parseRecords(`${good}\n\n`, 'f')).toHaveLength(1);
    expect(() => parseRecords(`${good}\n${good.slice(0, 20)}`, 'r.jsonl')).toThrow(/r.jsonl:2: not a JSON line/);
    expect(() => parseRecords('{"v":2}', 'r.jsonl')).toThrow(/r.jsonl:1: not a sweep record/);
    expect(() => parseRecords(JSON.stringify({ ...rec(0, 1, 'clean'), verdict: 'maybe' }), 'x')).toThrow(UsageError);
  });

  it('refuses records of one variant from two builds', () => {
    expect(() => checkBuilds([rec(0, 1, 'clean'), rec(1, 2, 'clean', { build: 'b2' })])).toThrow(/mix builds of unpatched: b1 and b2/);
    expect(() => checkBuilds([rec(0, 1, 'clean')], new Map([['unpatched', 'b9']]))).toThrow(/b9 and b1/);
    expect(checkBuilds([rec(0, 1, 'clean'), rec(1, 2, 'clean', { variant: 'patched', build: 'b2' })]).size).toBe(2);
  });
});
