/**
 * What `npm test` and `npm run bench` do when a program from Debian is missing (host/debian-package.ts):
 * install it when root with apt-get, otherwise skip with one line naming the command to run. The
 * decision is driven with fake machines; the Chromium override and the browser suite's skip are
 * tried for real.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOrInstall, type InstallHost, type ProgramNeed } from '../../../host/debian-package.js';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { CHROMIUM_ENV, chromiumNeed } from '../../../host/web/node-harness.js';

/** A machine where the program appears once `install` succeeds; records what was tried. */
function fakeHost(o: { root: boolean; apt: boolean; installWorks: boolean; present?: boolean }): { host: InstallHost; need: ProgramNeed; installs: string[]; said: string[] } {
  let present = o.present ?? false;
  const installs: string[] = [];
  const said: string[] = [];
  const host: InstallHost = {
    isRoot: o.root,
    hasAptGet: o.apt,
    install(pkg) {
      installs.push(pkg);
      if (o.installWorks) present = true;
      return o.installWorks ? { ok: true, err: '' } : { ok: false, err: 'E: Unable to locate package chromium' };
    },
    say: (l) => void said.push(l),
  };
  return { host, need: { pkg: 'chromium', find: () => (present ? '/usr/bin/chromium' : undefined) }, installs, said };
}

describe('finding or installing a Debian program', () => {
  it('uses a program that is there without installing anything', () => {
    const f = fakeHost({ root: true, apt: true, installWorks: true, present: true });
    expect(findOrInstall(f.need, f.host)).toEqual({ path: '/usr/bin/chromium' });
    expect(f.installs).toEqual([]);
  });

  it('as root with apt-get: installs the package, says so once, and uses it', () => {
    const f = fakeHost({ root: true, apt: true, installWorks: true });
    expect(findOrInstall(f.need, f.host)).toEqual({ path: '/usr/bin/chromium', installed: true });
    expect(f.installs).toEqual(['chromium']);
    expect(f.said).toHaveLength(1);
    expect(f.said[0]).toMatch(/installing Debian's chromium with apt-get/);
  });

  it('not root: installs nothing and names the sudo command', () => {
    const f = fakeHost({ root: false, apt: true, installWorks: true });
    const a = findOrInstall(f.need, f.host);
    expect(a.path).toBeUndefined();
    expect(a.why).toBe('chromium is not installed; run: sudo apt-get install -y chromium');
    expect(f.installs).toEqual([]);
  });

  it('root without apt-get: installs nothing and says which package is needed', () => {
    const f = fakeHost({ root: true, apt: false, installWorks: true });
    expect(findOrInstall(f.need, f.host).why).toMatch(/chromium is not installed and apt-get is not available/);
    expect(f.installs).toEqual([]);
  });

  it('an install that fails gives apt-get\'s last line and the command, not a path', () => {
    const f = fakeHost({ root: true, apt: true, installWorks: false });
    const a = findOrInstall(f.need, f.host);
    expect(a.path).toBeUndefined();
    expect(a.why).toMatch(/could not be installed with apt-get \(E: Unable to locate package chromium\); run: apt-get install -y chromium/);
  });

  it(`${CHROMIUM_ENV} naming no program: missing, and nothing is installed even as root`, () => {
    const f = fakeHost({ root: true, apt: true, installWorks: true });
    const need = chromiumNeed({ [CHROMIUM_ENV]: '/nonexistent/chromium' });
    const a = findOrInstall(need, f.host);
    expect(a.why).toBe(`${CHROMIUM_ENV}=/nonexistent/chromium is not an executable file (unset it to use Debian's chromium)`);
    expect(f.installs).toEqual([]);
  });

  it(`${CHROMIUM_ENV} naming an executable uses it`, () => {
    const f = fakeHost({ root: false, apt: false, installWorks: false });
    expect(findOrInstall(chromiumNeed({ [CHROMIUM_ENV]: process.execPath }), f.host)).toEqual({ path: process.execPath });
  });

  it('without Chromium the browser suite skips with the reason in its name; the run passes', () => {
    const vitest = join(packageRoot(), 'node_modules', '.bin', 'vitest');
    const r = spawnSync(vitest, ['run', 'test/node/web/site.test.ts'], {
      cwd: packageRoot(),
      encoding: 'utf8',
      env: { ...process.env, [CHROMIUM_ENV]: '/nonexistent/chromium', CI: '1', NO_COLOR: '1' },
      timeout: 110_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain(`${CHROMIUM_ENV}=/nonexistent/chromium is not an executable file`);
    expect(out).toMatch(/skipped/i);
    expect(r.status, out).toBe(0);
  });
});
