/** The labs' entry (compiled dist/host/lab.js): usage, --show-fix, hints and parts, and one --json
 *  check of a known-wrong fix. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/spdk/node-loader.js';
import { nodeScript } from './support/node-script.js';

const LAB = join(packageRoot(), 'dist', 'host', 'lab.js');

const lab = nodeScript(LAB, 30_000);
const slowLab = nodeScript(LAB, 600_000);
const haveEmcc = (): boolean => (process.env['PATH'] ?? '').split(':').some((d) => existsSync(join(d, 'emcc')));

describe('npm run lab', () => {
  it('lists a lab for every replay', () => {
    const r = lab('help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/labs: .*zcopy-threshold.*tcp-zcopy-disconnect.*sparse-backing-image/);
  });

  it.each([
    ['zcopy-threshold', /spdk-patches\/0001-sock-fix-premature-completion-of-zcopy-req\.patch/],
    ['sparse-backing-image', /spdk-patches\/0002-blob-initialize-newly-allocated-cluster-to-zero\.patch[\s\S]*blob_write_zeros_cpl/],
  ])('--show-fix for %s prints the patch whose header names it', (id, want) => {
    const r = lab('check', id, '--show-fix');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(want);
    expect(r.stdout).toMatch(new RegExp(`^Replay:\\s+${id}\\s*$`, 'm'));
    expect(r.stdout.match(/^Replay:/gm)).toHaveLength(1);
  });

  it('--show-fix for tcp-zcopy-disconnect prints the configuration and where the patched variant applies it', () => {
    const r = lab('check', 'tcp-zcopy-disconnect', '--show-fix');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('nvmf_create_transport -t tcp --zcopy --ack-timeout');
    expect(r.stdout).toContain('79606bee4c');
    expect(r.stdout).not.toMatch(/not found\)/);
    expect(r.stdout).toMatch(/host\/scenarios\/tcp-zcopy-disconnect\.ts:\d+: .*opts\.variant === 'patched'/);
    expect(r.stdout).toMatch(/wasm\/lib\/nvmf\/tcp\.c:\d+: .*opts\.ack_timeout = transport->opts\.ack_timeout/);
    expect(r.stdout).toMatch(/wasm\/lib\/sock\/sock\.c:\d+: .*TCP_USER_TIMEOUT/);
    expect(r.stdout).toMatch(/host\/kernel\/tcp-output\.ts:\d+: .*'user_timeout'/);
  });

  it('an unknown replay is a usage error', () => {
    const r = lab('check', 'no-such-replay');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario "no-such-replay"/);
  });

  it('hint: a number out of range is a usage error naming the range', () => {
    const r = lab('hint', 'zcopy-threshold', '9');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/hint needs a number in 1\.\.4, got "9"/);
  });

  it('a patch that cannot be read is one error line, not a stack', () => {
    const r = lab('check', 'zcopy-threshold', '--patch', 'test/labs/no-such.patch');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^lab: error: .*no-such\.patch/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('parts names the four parts and the files the student may change', () => {
    const r = lab('parts', 'sparse-backing-image');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/part 1, Observe[\s\S]*part 2, Find the line[\s\S]*part 3, Fix[\s\S]*part 4, Defend/);
    expect(r.stdout).toContain('wasm/lib/blob/blob_io.c');
    expect(r.stdout).toMatch(/github\.com\/longhorn\/longhorn\/issues\/9876/);
  });

  it.skipIf(!haveEmcc())('check --json of a wrong fix FAILs, every failure with its problems and replay command', () => {
    const r = slowLab('check', 'zcopy-threshold', '--seeds', '1', '--json', '--patch', 'test/labs/zcopy-threshold/wrong/no-zerocopy.patch');
    expect(r.status, r.stderr).toBe(1);
    const rep = JSON.parse(r.stdout) as { lab: string; pass: boolean; taken: string[]; failures: { problems: string[]; replay: string }[]; build: { flavor: string }[] };
    expect(rep.lab).toBe('zcopy-threshold');
    expect(rep.pass).toBe(false);
    expect(rep.taken).toEqual(['wasm/module/sock/posix/posix.c']);
    expect(rep.build.map((b) => b.flavor)).toEqual(['release']);
    expect(rep.failures.length).toBeGreaterThan(0);
    for (const f of rep.failures) expect(f.replay).toMatch(/^npm run lab -- run zcopy-threshold --seed \d+/);
    expect(rep.failures[0]!.problems[0]).toMatch(/did not mix modes \(0 MSG_ZEROCOPY/);
  }, 600_000);
});
