/** The CLI as a user runs it (compiled dist/host/cli.js, built by `npm test`'s build step). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/spdk/node-loader.js';
import { nodeScript } from './support/node-script.js';

const CLI = join(packageRoot(), 'dist', 'host', 'cli.js');

const cli = nodeScript(CLI, 120_000);

describe('spdk-wasm CLI', () => {
  it('list names every replay with its parameters', () => {
    const r = cli('list');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('zcopy-threshold');
    expect(r.stdout).toContain('--threshold');
    expect(r.stdout).toContain('--io-size');
    expect(r.stdout).toContain('--mss');
  });

  it.each([
    [['run', 'no-such-replay'], /unknown scenario "no-such-replay"/],
    [['run', 'zcopy-threshold', '--variant', 'fixed'], /--variant must be unpatched or patched/],
    [['run', 'zcopy-threshold', '--seed', 'abc'], /--seed must be an integer/],
    [['run', 'zcopy-threshold', '--bogus', '1'], /unknown parameter --bogus/],
    [['run', 'zcopy-threshold', '--io-size', '5000'], /multiple of 4096/],
    [['run', 'zcopy-threshold', '--threshold', '-1'], /--threshold of zcopy-threshold must be >= 0/],
    [['frobnicate'], /unknown command "frobnicate"/],
    // Checked before the run starts (it used to fail with exit 3 after the whole run).
    [['run', 'zcopy-threshold', '--pcap', '/nonexistent-dir/x.pcap'], /^spdk-wasm: --pcap: cannot write "\/nonexistent-dir\/x\.unpatched\.pcap" \(ENOENT\)$/],
    [['run', 'zcopy-threshold', '--variant', 'patched', '--pcap', '/proc/x.pcap'], /^spdk-wasm: --pcap: cannot write "\/proc\/x\.pcap"/],
    [['run', 'zcopy-threshold', '--trace', '/nonexistent-dir/t.jsonl'], /^spdk-wasm: --trace: cannot write "\/nonexistent-dir\/t\.jsonl" \(ENOENT\)$/],
  ])('bad usage %j: one clear line, exit status 2', (args, msg) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(msg);
  });

  it('run --json gives one object per variant with the contract fields', () => {
    const r = cli('run', 'zcopy-threshold', '--seed', '3', '--json', '--io-count', '6');
    expect(r.status).toBe(0);
    const runs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(runs.map((x) => x['variant'])).toEqual(['unpatched', 'patched']);
    for (const x of runs) {
      for (const k of ['scenario', 'variant', 'seed', 'verdict', 'reproduced', 'oracle', 'evidence', 'simulatedUs', 'wallMs', 'traceHash', 'build']) {
        expect(x).toHaveProperty(k);
      }
      expect(x['seed']).toBe(3);
    }
    expect(runs.map((x) => [x['verdict'], x['reproduced']])).toEqual([['reproduced', true], ['clean', false]]);
  });

  it('an inconclusive run exits 4 with a line saying what was missing; --expect inconclusive accepts it', () => {
    const args = ['run', 'zcopy-threshold', '--variant', 'patched', '--loss-ppm', '300000', '--zcopy', 'false'];
    const r = cli(...args);
    expect(r.status).toBe(4);
    expect(r.stdout).toContain('INCONCLUSIVE');
    expect(r.stderr).toMatch(/^spdk-wasm: zcopy-threshold patched seed 1 is inconclusive: only \d+\/16 writes completed/m);
    expect(cli(...args, '--expect', 'inconclusive').status).toBe(0);
    expect(cli(...args, '--expect', 'clean').status).toBe(1);
  });

  it('--expect makes a differing verdict a non-zero exit', () => {
    expect(cli('run', 'zcopy-threshold', '--variant', 'patched', '--io-count', '4', '--expect', 'clean').status).toBe(0);
    const r = cli('run', 'zcopy-threshold', '--variant', 'patched', '--io-count', '4', '--expect', 'reproduced');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('replay: npx spdk-wasm run zcopy-threshold --variant patched');
  });

  it('--trace FILE writes every event as one JSON object a line, with upstream names', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spdk-wasm-')), 'trace.jsonl');
    const r = cli('run', 'zcopy-threshold', '--variant', 'patched', '--io-count', '2', '--trace', file, '--json');
    expect(r.status).toBe(0);
    const run = JSON.parse(r.stdout) as { traceEvents: number };
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ev: string; variant: string });
    expect(events.length).toBe(run.traceEvents);
    const names = new Set(events.map((e) => e.ev));
    for (const n of ['_sock_flush', '_sock_check_zcopy', 'spdk_sock_request_complete', 'sock_verify.submit']) expect(names).toContain(n);
    expect(events.every((e) => e.variant === 'patched')).toBe(true);
  });
});
