/**
 * Node-only: finds a program that comes from a Debian package, installing the package with apt-get
 * when it is missing and this process may (root, apt-get present), as build.sh does for emscripten;
 * otherwise it says in one line which command to run. The tests and the bench use it for what they
 * need beyond npm (Chromium, tshark), so `npm test` on a fresh clone sets itself up.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';

export interface Availability {
  /** Set when the program can be run. */
  path?: string;
  /** Why it cannot, with the command that fixes it (for a skip message). */
  why?: string;
  /** True when this call installed the package. */
  installed?: boolean;
}

export interface ProgramNeed {
  /** The Debian package that provides the program. */
  pkg: string;
  /** The program's path, or undefined when it is not there. */
  find(): string | undefined;
  /** An environment override in effect: when it names no program, nothing is installed. */
  override?: { name: string; value: string };
}

/** What the decision needs to know about this machine; tests pass a fake one. */
export interface InstallHost {
  isRoot: boolean;
  hasAptGet: boolean;
  install(pkg: string): { ok: boolean; err: string };
  say(line: string): void;
}

/** The decision: use the program if it is there, else install it if we may, else say what to run. */
export function findOrInstall(need: ProgramNeed, host: InstallHost): Availability {
  const found = need.find();
  if (found !== undefined) return { path: found };
  const { pkg, override } = need;
  if (override !== undefined) return { why: `${override.name}=${override.value} is not an executable file (unset it to use Debian's ${pkg})` };
  if (!host.isRoot) return { why: `${pkg} is not installed; run: sudo apt-get install -y ${pkg}` };
  if (!host.hasAptGet) return { why: `${pkg} is not installed and apt-get is not available; install your system's ${pkg} package` };
  host.say(`installing Debian's ${pkg} with apt-get (once; this can take a minute)`);
  const r = host.install(pkg);
  const path = need.find();
  if (path !== undefined) return { path, installed: true };
  return { why: `${pkg} could not be installed with apt-get (${r.err || 'no error message'}); run: apt-get install -y ${pkg}` };
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of `cmd` on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  const p = r.stdout?.trim() ?? '';
  return r.status === 0 && p !== '' ? p : undefined;
}

function aptGet(...args: string[]): { ok: boolean; err: string } {
  // Lock::Timeout: two test files may install at once; the second waits instead of failing.
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 900_000,
  });
  const err = `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
  return { ok: r.status === 0, err };
}

/** This machine, installing for real. */
export const SYSTEM: InstallHost = {
  isRoot: process.getuid?.() === 0,
  get hasAptGet() {
    return which('apt-get') !== undefined;
  },
  install(pkg) {
    let r = aptGet('install', '-y', '-qq', pkg);
    if (!r.ok) {
      // A fresh machine often has no package lists yet.
      const u = aptGet('update', '-qq');
      r = u.ok ? aptGet('install', '-y', '-qq', pkg) : u;
    }
    return r;
  },
  say: (line) => void process.stderr.write(`spdk-wasm: ${line}\n`),
};
