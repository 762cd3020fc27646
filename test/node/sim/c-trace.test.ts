/**
 * C trace points are hashed in each machine's linear memory (wasm/port/trace_host.c) and cross to
 * the host only while someone takes events. The digest and the count must not depend on who is
 * listening (the demos subscribe, the CLI does not), and must still cover what the C side traced.
 */
import { describe, expect, it } from 'vitest';
import type { World } from '../../../host/sim/world.js';
import type { TraceEvent } from '../../../host/sim/trace.js';
import { buildTestbed } from '../../../host/scenarios/testbed.js';
import { ATTACH, NVME_HOST_IP, NVME_TARGET_IP, setupNvmeTcp, waitAttached } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';

type Listen = 'nobody' | 'sink' | 'late-sink' | 'onTrace';
const RANDREAD = 1;

async function randread(listen: Listen, lbaSeed = 1): Promise<{ digest: string; count: number; seen: TraceEvent[] }> {
  const seen: TraceEvent[] = [];
  const onWorld = (w: World): void => {
    if (listen === 'sink') w.trace.subscribe((e) => seen.push(e));
  };
  const tb = await buildTestbed(
    { variant: 'patched', flavor: 'release', seed: 7, params: {}, load: loadVariant, onWorld },
    { mss: 1448, latencyUs: 20, jitterUs: 0, lossPpm: 0, tsoBytes: 65536,
      machines: [{ name: 'host', ip: NVME_HOST_IP }, { name: 'target', ip: NVME_TARGET_IP }] },
  );
  const host = tb.machine('host');
  const target = tb.machine('target');
  const id = setupNvmeTcp(target, host, { blocks: 4096, blockSize: 512 });
  expect(waitAttached(tb, host, id)).toBe(ATTACH.READY);
  if (listen === 'onTrace') target.onTrace = () => {};
  let stop: (() => void) | undefined;
  if (listen === 'late-sink') stop = tb.world.trace.subscribe((e) => seen.push(e));
  expect(host.api.spdk_wasm_bdevperf_start(id, RANDREAD, 4096, 4, 0, 0, 40, lbaSeed, 0)).toBe(0);
  tb.runUntil(() => host.api.spdk_wasm_bdevperf_counter(1) >= 20, tb.world.now + 10e6);
  stop?.();
  tb.runUntil(() => host.api.spdk_wasm_bdevperf_status() !== 0, tb.world.now + 10e6);
  expect(host.api.spdk_wasm_bdevperf_status()).toBe(1);
  return { digest: tb.world.trace.digest(), count: tb.world.trace.count, seen };
}

describe('C trace points', () => {
  it('give the same digest and count whoever listens, and reach a sink as events', async () => {
    const quiet = await randread('nobody');
    for (const listen of ['sink', 'late-sink', 'onTrace'] as const) {
      const r = await randread(listen);
      expect(r.digest, listen).toBe(quiet.digest);
      expect(r.count, listen).toBe(quiet.count);
    }
    const all = await randread('sink');
    // A sink from the start sees every event the count includes, C ones with their four fields.
    expect(all.seen.length).toBe(all.count);
    const states = all.seen.filter((e) => e.m === 'target' && e.ev === 'TCP_REQ_STATE');
    expect(states.length).toBeGreaterThanOrEqual(40 * 5);
    expect(Object.keys(states[0]!.f ?? {})).toEqual(['a', 'b', 'c', 'd']);
    expect(all.seen.some((e) => e.m === 'host' && e.ev === 'bdevperf_complete')).toBe(true);
  });

  it('are in the digest: runs that differ only in the LBAs bdevperf reads differ', async () => {
    const a = await randread('nobody', 1);
    const b = await randread('nobody', 2);
    expect(b.count).toBe(a.count);
    expect(b.digest).not.toBe(a.digest);
  });
});
