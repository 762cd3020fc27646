/** `--help`/`-h` after any command of the CLI (dist/host/cli.js) and of the labs (dist/host/lab.js):
 *  the command's usage, and for a replay its parameters with defaults and ranges; never a run. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../host/scenarios/catalog.js';
import { packageRoot } from '../../host/spdk/node-loader.js';
import { nodeScript } from './support/node-script.js';

const cli = nodeScript(join(packageRoot(), 'dist', 'host', 'cli.js'), 30_000);
const lab = nodeScript(join(packageRoot(), 'dist', 'host', 'lab.js'), 30_000);

/** Every parameter of a replay, as `--name (default D)` followed by its range or choices. */
function expectEveryParam(out: string, id: string): void {
  const s = CATALOG.find((x) => x.id === id)!;
  for (const p of s.params) {
    const range = p.kind === 'int' ? `[${p.min ?? ''}..${p.max ?? ''}]` : p.kind === 'enum' ? `{${p.choices!.join('|')}}` : '{true|false}';
    expect(out).toContain(`--${p.name} (default ${String(p.default)}) ${range}  ${p.help}`);
  }
}

describe('spdk-wasm <command> --help', () => {
  it.each([
    [['run', '--help'], /^usage:[\s\S]*spdk-wasm run <scenario>[\s\S]*--help lists that replay's parameters/],
    [['run', '-h'], /^usage:[\s\S]*spdk-wasm run <scenario>/],
    [['list', '--help'], /^usage: spdk-wasm list\n/],
    [['all', '-h'], /^usage: spdk-wasm all \[--seed N\] \[--json\]\n/],
    [['all', '--seed', '3', '--help'], /^usage: spdk-wasm all/],
  ])('%j prints that command\'s usage and exits 0', (args, want) => {
    const r = cli(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(want);
    expect(r.stdout).not.toMatch(/trace hash/); // nothing ran
  });

  it.each(CATALOG.map((s) => s.id))('run %s --help prints the replay\'s parameters with defaults and ranges', (id) => {
    const r = cli('run', id, '--seed', '2', '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: spdk-wasm run ${id} `));
    expect(r.stdout).toContain(`docs/bugs/${id}.md`);
    expectEveryParam(r.stdout, id);
    expect(r.stdout).not.toMatch(/trace hash/);
  });

  it.each([
    [['run', 'no-such-replay', '--help'], /unknown scenario "no-such-replay"/],
    [['frobnicate', '-h'], /unknown command "frobnicate"/],
  ])('%j is still bad usage: one line, exit 2', (args, msg) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(msg);
  });
});

describe('npm run lab -- <command> --help', () => {
  it.each([
    [['check', '--help'], /^usage:\n {2}npm run lab -- check <id> \[--seeds N\][\s\S]*labs: /],
    [['run', '-h'], /^usage:\n {2}npm run lab -- run <id>/],
    [['check', 'zcopy-threshold', '--help'], /the bug: docs\/bugs\/zcopy-threshold\.md; the lab: docs\/labs\/zcopy-threshold\.md/],
  ])('%j prints usage and exits 0 without building anything', (args, want) => {
    const r = lab(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(want);
    expect(r.stderr).not.toMatch(/building/);
  });

  it('run <id> --help lists the replay\'s knobs', () => {
    const r = lab('run', 'tcp-zcopy-disconnect', '--help');
    expect(r.status, r.stderr).toBe(0);
    expectEveryParam(r.stdout, 'tcp-zcopy-disconnect');
  });

  it.each([
    [['run', 'no-such-replay', '--help'], /unknown scenario "no-such-replay"/],
    [['frob', '--help'], /unknown command "frob"/],
  ])('%j is a usage error (exit 2)', (args, msg) => {
    const r = lab(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg);
  });
});
