/** `spdk-wasm run <id> --pcap FILE` as a user runs it (compiled dist/host/cli.js). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../host/spdk/node-loader.js';

const CLI = join(packageRoot(), 'dist', 'host', 'cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function isPcap(file: string): boolean {
  const b = readFileSync(file);
  return b.length > 24 && b.readUInt32LE(0) === 0xa1b2c3d4 && b.readUInt32LE(20) === 1;
}

describe('spdk-wasm run --pcap', () => {
  it('both variants: one file each, the variant before the extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-cli-pcap-'));
    const r = cli('run', 'zcopy-threshold', '--io-count', '2', '--pcap', join(dir, 'wire.pcap'));
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'wire.pcap'))).toBe(false);
    for (const v of ['unpatched', 'patched']) {
      expect(isPcap(join(dir, `wire.${v}.pcap`))).toBe(true);
      expect(r.stderr).toContain(`(${v}) to ${join(dir, `wire.${v}.pcap`)}`);
    }
  });

  it('one variant: exactly the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-cli-pcap-'));
    const r = cli('run', 'zcopy-threshold', '--variant', 'patched', '--io-count', '2', '--pcap', join(dir, 'wire.pcap'));
    expect(r.status).toBe(0);
    expect(isPcap(join(dir, 'wire.pcap'))).toBe(true);
  });

  it('help explains the per-variant file names; --pcap needs a value', () => {
    expect(cli('help').stdout).toMatch(/--pcap FILE[\s\S]*x\.unpatched\.pcap and x\.patched\.pcap/);
    const r = cli('run', 'zcopy-threshold', '--pcap');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--pcap needs a value');
  });
});
