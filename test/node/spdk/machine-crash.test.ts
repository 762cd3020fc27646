/** The crash oracle: a trap, an abort or an ASan report inside a machine becomes a CrashReport with
 *  the C stack, the machine stops being stepped, and it can be rebooted into a fresh instance. */
import { describe, expect, it } from 'vitest';
import { MachineCrashed } from '../../../host/spdk/crash.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { utMachine } from '../support/ut.js';

describe('machine crash handling', () => {
  it.each([
    [0, 'abort'],
    [2, 'trap'],
  ] as const)('spdk_wasm_ut_crash(%i) on release: a %s report naming the C function', async (kind, expected) => {
    const { m } = await utMachine('unpatched', 'release');
    expect(() => m.call('spdk_wasm_ut_crash', kind)).toThrow(MachineCrashed);
    expect(m.crash?.kind).toBe(expected);
    if (expected === 'trap') expect(m.crash?.cStack).toContain('spdk_wasm_ut_crash');
    // A crashed machine is idle to the world and refuses further calls with the same report.
    expect(m.pollOnce()).toEqual({ busy: false, nextDeadline: Infinity });
    expect(() => m.call('spdk_wasm_poll_once')).toThrow(/crashed/);
    await m.reboot();
    expect(m.crash).toBeUndefined();
    expect(m.call('spdk_wasm_poll_once')).toBe(0);
  });

  it('a use after free on the asan flavor gives an AddressSanitizer report with the C stack', async () => {
    const { m } = await utMachine('patched', 'asan');
    expect(() => m.call('spdk_wasm_ut_crash', 1)).toThrow(MachineCrashed);
    expect(m.crash?.kind).toBe('asan');
    expect(m.crash?.asanReport).toContain('heap-use-after-free');
    expect(m.crash?.cStack[0]).toBe('spdk_wasm_ut_crash');
    expect(m.crash?.message).toBe('AddressSanitizer: heap-use-after-free, READ of size 4 in spdk_wasm_ut_crash');
    await m.reboot();
    expect(m.call('spdk_wasm_poll_once')).toBe(0);
  });

  it('bad C-side use returns error codes instead of trapping', async () => {
    const { m } = await utMachine();
    expect(m.call('spdk_wasm_sock_flush', 0) | 0).toBeLessThan(0);
    expect(m.call('spdk_wasm_posix_flush', 0) | 0).toBeLessThan(0);
    expect(m.call('spdk_wasm_sock_get', 0, 0) >>> 0).toBe(0xffffffff);
    expect(m.call('spdk_wasm_req_get', 0, 0) >>> 0).toBe(0xffffffff);
    expect(m.call('spdk_wasm_ut_send_msg', 0, 1) | 0).toBeLessThan(0);
    expect(m.crash).toBeUndefined();
  });
});

describe('crash verdict of a scenario', () => {
  it('a trap inside a machine mid-run becomes oracle "crash" with the C stack, on either variant', async () => {
    const { zcopyThreshold } = await import('../../../host/scenarios/zcopy-threshold.js');
    const { resolveParams } = await import('../../../host/scenarios/params.js');
    const { loadVariant } = await import('../../../host/spdk/node-loader.js');
    for (const variant of ['unpatched', 'patched'] as const) {
      const r = await zcopyThreshold.run({
        variant, flavor: 'release', seed: 1, params: resolveParams(zcopyThreshold, {}), load: loadVariant,
        onWorld: (world) => {
          world.at(500, 'inject-trap', () => {
            const m = world.find('target') as SpdkMachine;
            expect(() => m.call('spdk_wasm_ut_crash', 2)).toThrow(MachineCrashed);
          });
        },
      });
      expect(r.oracle).toBe('crash');
      expect(r.reproduced).toBe(true);
      expect(r.evidence['machine']).toBe('target');
      expect(r.evidence['cStack']).toContain('spdk_wasm_ut_crash');
      expect(r.summary).toMatch(/^target crashed \(trap\)/);
    }
  });
});
