/** The labs' entry (compiled dist/host/lab.js): the parts that need no build of wasm/ (--show-fix, usage). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/spdk/node-loader.js';
import { nodeScript } from './support/node-script.js';

const LAB = join(packageRoot(), 'dist', 'host', 'lab.js');

const lab = nodeScript(LAB, 30_000);

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
});
