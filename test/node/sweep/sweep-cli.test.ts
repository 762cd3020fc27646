/**
 * `spdk-wasm sweep` and `merge` as a user runs them (the compiled CLI): two shards merged give the
 * summary of one run, a resumed run gives it too, and bad input is one line and exit 2 with the
 * results file untouched.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { nodeScript } from '../support/node-script.js';

const cli = nodeScript(join(packageRoot(), 'dist', 'host', 'cli.js'), 300_000);
const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-sweep-'));
const SWEEP = ['sweep', 'zcopy-threshold', '--seeds', '1..6', '--param', 'io-size=65536,131072', '--param', 'io-count=4'];

type Summary = { points: { point: string; variant: string; counts: Record<string, number>; firstFailing?: { seed: number } }[] };
const points = (stdout: string): Summary['points'] => (JSON.parse(stdout) as Summary).points;

describe('spdk-wasm sweep', () => {
  const one = join(dir, 'one.jsonl');
  let whole: Summary['points'];

  it('runs the cross product on 2 workers and summarises each point', () => {
    const r = cli(...SWEEP, '--workers', '2', '--out', one, '--json');
    expect(r.status, r.stderr).toBe(0);
    whole = points(r.stdout);
    expect(whole).toHaveLength(4);
    const unpatched128 = whole.find((p) => p.variant === 'unpatched' && p.point === 'io-count=4 io-size=131072')!;
    expect(unpatched128.counts['reproduced']).toBe(6);
    expect(unpatched128.firstFailing?.seed).toBe(1);
    for (const p of whole.filter((q) => q.variant === 'patched')) expect(p.counts['reproduced']).toBe(0);
    expect(readFileSync(one, 'utf8').trim().split('\n')).toHaveLength(24);
  });

  it('two shards merged equal the single run', () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    expect(cli(...SWEEP, '--workers', '1', '--shard', '1/2', '--out', a).status).toBe(0);
    expect(cli(...SWEEP, '--workers', '1', '--shard', '2/2', '--out', b).status).toBe(0);
    const merged = cli('merge', a, b, '--json');
    expect(merged.status, merged.stderr).toBe(0);
    expect(points(merged.stdout)).toEqual(whole);
    expect(cli('merge', one, '--json').stdout).toBe(merged.stdout);
  });

  it('--resume continues a cut-off file and ends with the same summary', () => {
    const part = join(dir, 'part.jsonl');
    writeFileSync(part, readFileSync(one, 'utf8').split('\n').slice(0, 10).join('\n') + '\n');
    const r = cli(...SWEEP, '--workers', '2', '--out', part, '--resume', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(points(r.stdout)).toEqual(whole);
    expect((JSON.parse(r.stdout) as { resumed: number; ran: number })).toMatchObject({ resumed: 10, ran: 14 });
  });

  it.each([
    [['sweep', 'zcopy-threshold', '--shard', '3/2'], /--shard takes k\/n/],
    [['sweep', 'zcopy-threshold', '--seeds', '9..1'], /is empty/],
    [['sweep', 'zcopy-threshold', '--param', 'bogus=1'], /unknown parameter bogus/],
    [['sweep', 'zcopy-threshold', '--param', 'threshold=-5'], /must be >= 0/],
    [['sweep', 'zcopy-threshold', '--workers', '0'], /--workers must be an integer/],
    [['sweep', 'zcopy-threshold', '--param', 'faults=storm'], /--faults of zcopy-threshold must be one of none\|swarm/],
    [['sweep', 'zcopy-threshold', '--param', 'fault-count=0'], /--fault-count of zcopy-threshold must be >= 1/],
    [['sweep', 'zcopy-threshold', '--seeds', '1..x'], /--seeds takes/],
    [['sweep', 'no-such-replay'], /unknown scenario/],
    [['sweep', 'zcopy-threshold', '--frob'], /unknown flag --frob/],
    [['merge'], /merge needs one or more results files/],
    [['merge', '/nonexistent/x.jsonl'], /cannot read/],
  ])('bad input %j: one line, exit 2', (args, msg) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(msg);
  });

  it('never overwrites a results file, and refuses a truncated or foreign one', () => {
    const before = readFileSync(one, 'utf8');
    const r = cli(...SWEEP, '--out', one);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/exists; give --resume/);
    expect(readFileSync(one, 'utf8')).toBe(before);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, before.slice(0, before.length - 40));
    expect(cli('merge', cut).stderr).toMatch(/cut.jsonl:24: not a JSON line/);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, before.replace(/"build":"([0-9a-f]+)"/, '"build":"0000000000000000"'));
    expect(cli('merge', other).stderr).toMatch(/mix builds/);
    expect(cli(...SWEEP, '--out', other, '--resume').stderr).toMatch(/mix builds/);
  });

  it('Ctrl-C stops after the runs in flight, keeps every finished run, and --resume completes it', async () => {
    const out = join(dir, 'int.jsonl');
    const args = ['sweep', 'zcopy-threshold', '--seeds', '1..150', '--param', 'io-count=2', '--workers', '1', '--out', out];
    const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'host', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const lines = (): number => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').length : 0);
    while (lines() < 5) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    const kept = lines();
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(kept).toBeLessThan(300);
    expect(stdout).toMatch(/interrupted: \d+ runs not done; continue with --resume/);
    const r = cli(...args, '--resume', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 300, resumed: kept });
  });
});
