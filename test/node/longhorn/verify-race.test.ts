/**
 * Spec §8(b) items 1-7 and 9: verify() against ReplicaCreate (longhorn/longhorn#9953) on the
 * engine model, driven through fixed schedules of the tiny runner. Every verdict reads the
 * server's replicaMap, ReplicaGet, the engine's ReplicaStatusMap and SPDK's nvmf_get_subsystems.
 */
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../host/longhorn/spdk-engine/errors.js';
import type { Server } from '../../../host/longhorn/spdk-engine/server.js';
import { replicaNqn } from '../../../host/longhorn/spdk-engine/types.js';
import type { RpcServer } from '../../../host/spdk/jsonrpc.js';
import { client, engineServer, IP, PATCHED, UNPATCHED, type ClientResult } from './engine-harness.js';
import { phases, run, runOne, type Phase, type RunResult } from './mini-runner.js';

function race(s: Server, pick: Phase[], ticks = 2): { res: RunResult; c: ClientResult } {
  const res = run([{ name: 'create', body: client(s) }, { name: 'verify', body: s.monitoring(ticks) }], phases(pick));
  const o = res.outcomes.get('create')!;
  if (o.error !== undefined) throw o.error;
  return { res, c: o.value as ClientResult };
}

/** The subsystems listening, as nqn -> "ip:port". */
function exports(rpc: RpcServer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of rpc.call('nvmf_get_subsystems') as { nqn: string; listen_addresses: { traddr: string; trsvcid: string }[] }[]) {
    out[s.nqn] = s.listen_addresses.map((a) => `${a.traddr}:${a.trsvcid}`);
  }
  return out;
}

/** verify lists the bdevs after the insert and before r.Create starts. */
const LIST_BEFORE_CREATE: Phase[] = [{ task: 'create', until: 'lock replica:' }, { task: 'verify', until: 'sleep' }];
/** r.Create holds r.Lock and has read the lvstores; verify lists, then blocks on r.RLock. */
const LIST_DURING_CREATE: Phase[] = [{ task: 'create', until: 'bdev_get_bdevs' }, { task: 'verify', until: 'lock replica:' }, { task: 'create', until: 'lock server' }];

describe('§8(b) 1-3: unpatched, verify lists the bdevs inside the creation window', () => {
  it('1. verify removes the replica; ReplicaCreate still returns running; ReplicaGet fails NotFound', async () => {
    const { s } = await engineServer(UNPATCHED);
    const { res, c } = race(s, LIST_BEFORE_CREATE, 1);
    expect(c.created).toMatchObject({ name: 'r1', state: 'running', isExposed: true, portStart: 20001, portEnd: 20002, id: 'r1#1' });
    expect(c.got).toBeInstanceOf(EngineError);
    expect((c.got as EngineError).code).toBe('NotFound');
    expect(s.replicaMap.has('r1')).toBe(false);
    expect(res.trace.indexOf('verify: bdev_get_bdevs')).toBeLessThan(res.trace.indexOf('create: bdev_lvol_create'));
  });

  it('1. also when verify has to wait for r.Lock until Create finishes: it decides with the stale list', async () => {
    const { s } = await engineServer(UNPATCHED);
    const { res, c } = race(s, LIST_DURING_CREATE, 1);
    const t = res.trace;
    expect(t.indexOf('verify: bdev_get_bdevs')).toBeLessThan(t.indexOf('create: bdev_lvol_create'));
    // verify's r.RLock comes after Create's unlock of r.Lock, and the replica still goes.
    expect(t.findIndex((x) => x.startsWith('verify: lock replica:r1#1 (R)'))).toBeGreaterThan(t.indexOf('create: unlock replica:r1#1'));
    expect(c.created.state).toBe('running');
    expect((c.got as EngineError).code).toBe('NotFound');
    expect(s.log).toContain('verify: replica r1#1 has no lvol: deleted from replicaMap');
  });

  it('2. Engine.Create connects the replica but marks it ERR; the next ValidateAndUpdate puts the engine in error', async () => {
    const { s } = await engineServer(UNPATCHED);
    const { c } = race(s, LIST_BEFORE_CREATE, 2);
    const engine = c.engine as Exclude<ClientResult['engine'], Error>;
    expect(engine.state).toBe('running');
    expect(engine.replicaModeMap).toEqual({ r1: 'ERR' });
    expect(s.engineMap.get('r1-engine')!.log.join('\n')).toMatch(/replica r1 failed to get replica: cannot find replica r1: mode RW -> ERR/);
    expect(runOne(s.engineGet('r1-engine'))).toMatchObject({ state: 'error', errorMsg: 'engine r1-engine has no RW replica' });
  });

  it('3. the next verify adopts the lvol as a different, uncached replica: stopped, no ports, not exposed', async () => {
    const { s, rpc } = await engineServer(UNPATCHED);
    const { res, c } = race(s, LIST_BEFORE_CREATE, 2);
    expect(res.clockUs).toBe(6_000_000);
    const now = runOne(s.replicaGet('r1'));
    expect(now).toMatchObject({ state: 'stopped', portStart: 0, portEnd: 0, isExposed: false, head: 'r1' });
    expect(now.id).not.toBe(c.created.id);
    expect(s.log).toContain('verify: lvol r1 adopted as uncached replica r1#2');
    // the orphan keeps its ports and its NVMe-oF export
    expect(exports(rpc)).toEqual({ [replicaNqn('r1')]: [`${IP}:20001`] });
    expect(s.ports.inUse()).toBe(2);
  });
});

/** Every point at which verify's first round can start: after `k` choices of the client. */
function everyPoint(total: number): Phase[][] {
  return Array.from({ length: total }, (_, k) => [{ task: 'create', ops: k }, { task: 'verify', until: 'sleep' }]);
}

describe('§8(b) 4-5: patched (PR #288), a verify at any point of ReplicaCreate', () => {
  it('4. the replicaMap entry is the created object, running, exposed, with its ports; the engine is all RW', async () => {
    let points = 0;
    for (const pick of everyPoint(40)) {
      const { s, rpc } = await engineServer(PATCHED);
      const { c } = race(s, pick, 2);
      const entry = s.replicaMap.get('r1')!;
      expect(entry.id, JSON.stringify(pick)).toBe(c.created.id);
      expect(entry.info()).toMatchObject({ state: 'running', isExposed: true, portStart: 20001, portEnd: 20002 });
      expect((c.engine as { replicaModeMap: object }).replicaModeMap).toEqual({ r1: 'RW' });
      expect(runOne(s.engineGet('r1-engine')).state).toBe('running');
      expect(exports(rpc)).toEqual({ [replicaNqn('r1')]: [`${IP}:20001`] });
      points++;
    }
    expect(points).toBe(40);
  });

  it('4. during Create the replica is absent from replicaMap', async () => {
    const { s } = await engineServer(PATCHED);
    const seen: boolean[] = [];
    const res = run([{ name: 'create', body: client(s) }], (enabled, _i, next) => {
      if (next.get('create') === 'bdev_lvol_create') seen.push(s.replicaMap.has('r1'));
      return enabled[0]!;
    });
    expect(res.outcomes.get('create')!.error).toBeUndefined();
    expect(seen).toEqual([false]);
  });

  it('5. verify between the lvol creation and the deferred insert adopts an uncached replica, then the insert replaces it', async () => {
    const { s } = await engineServer(PATCHED);
    const { res, c } = race(s, [{ task: 'create', until: 'unlock replica:' }, { task: 'create', ops: 1 }, { task: 'verify', until: 'sleep' }], 2);
    const t = res.trace;
    expect(t.indexOf('create: bdev_lvol_create')).toBeLessThan(t.indexOf('verify: bdev_get_bdevs'));
    expect(s.log[0]).toBe('verify: lvol r1 adopted as uncached replica r1#2');
    expect(s.replicaMap.get('r1')!.id).toBe(c.created.id);
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ id: 'r1#1', state: 'running', isExposed: true, portStart: 20001 });
  });

  it('the unpatched server loses the replica at some of the same points', async () => {
    const lost: number[] = [];
    const picks = everyPoint(40);
    for (let k = 0; k < picks.length; k++) {
      const { s } = await engineServer(UNPATCHED);
      const { c } = race(s, picks[k]!, 2);
      if (s.replicaMap.get('r1')?.id !== c.created.id) lost.push(k);
    }
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(picks.length);
  });
});

describe('§8(b) 6: the deferred insert runs even when Create fails', () => {
  it('a Create that fails leaves the replica in replicaMap in state error with its ErrorMsg', async () => {
    const { s } = await engineServer(PATCHED);
    const r = runOne(s.replicaCreate({ name: 'r1', lvsName: 'lvs0', specSize: 8 << 20, portCount: 11 }));
    expect(r.state).toBe('error');
    expect(r.errorMsg).toBe('no 11 free contiguous ports in 20001-20010');
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ state: 'error', errorMsg: 'no 11 free contiguous ports in 20001-20010' });
  });

  it('an SPDK error inside Create is the replica ErrorMsg, naming the method and SPDK code', async () => {
    const { s } = await engineServer(PATCHED);
    const name = 'r'.repeat(300);
    const r = runOne(s.replicaCreate({ name, lvsName: 'lvs0', specSize: 8 << 20 }));
    expect(r.state).toBe('error');
    expect(r.errorMsg).toMatch(/^SPDK JSON-RPC bdev_lvol_create failed: code -32602: bdev_lvol_create: parameter 'lvol_name'/);
    expect(s.replicaMap.get(name)!.state).toBe('error');
  });

  it('corner case: a NotFound backing image still inserts a never-created pending replica, which the next verify removes', async () => {
    const { s, rpc } = await engineServer(PATCHED);
    let err: unknown;
    try {
      runOne(s.replicaCreate({ ...{ name: 'r1', lvsName: 'lvs0', specSize: 8 << 20 }, backingImageName: 'bi1' }));
    } catch (e) {
      err = e;
    }
    expect((err as EngineError).code).toBe('NotFound');
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ state: 'pending', head: '', portStart: 0 });
    expect(rpc.call('bdev_lvol_get_lvols', {})).toEqual([]);
    runOne(s.verify());
    expect(s.replicaMap.has('r1')).toBe(false);
  });
});

describe('§8(b) 7: IsReplicaLvol', () => {
  async function headless(extra: (rpc: RpcServer) => void) {
    const { s, rpc } = await engineServer(PATCHED);
    runOne(s.replicaCreate({ name: 'r1', lvsName: 'lvs0', specSize: 8 << 20 }));
    extra(rpc);
    return { s, rpc };
  }

  it('a missing head with a `<replica>-...` lvol left is kept', async () => {
    const { s, rpc } = await headless((rpc) => {
      rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/r1', snapshot_name: 'r1-snap-s1' });
      rpc.call('bdev_lvol_delete', { name: 'lvs0/r1' });
    });
    runOne(s.verify());
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ id: 'r1#1', state: 'error', errorMsg: 'head lvol r1 of replica r1 is missing' });
    expect((rpc.call('bdev_lvol_get_lvols', {}) as { name: string }[]).map((l) => l.name)).toEqual(['r1-snap-s1']);
  });

  it('a running rebuilding replica without its head is kept', async () => {
    const { s } = await headless((rpc) => rpc.call('bdev_lvol_delete', { name: 'lvs0/r1' }));
    s.replicaMap.get('r1')!.isRebuildingFlag = true;
    runOne(s.verify());
    expect(s.replicaMap.get('r1')!.id).toBe('r1#1');
  });

  it('an lvol that only starts with the name (r10, r1x) does not keep r1', async () => {
    const { s } = await headless((rpc) => {
      rpc.call('bdev_lvol_create', { lvol_name: 'r10', size_in_mib: 1, lvs_name: 'lvs0', thin_provision: true });
      rpc.call('bdev_lvol_create', { lvol_name: 'r1x', size_in_mib: 1, lvs_name: 'lvs0', thin_provision: true });
      rpc.call('bdev_lvol_delete', { name: 'lvs0/r1' });
    });
    runOne(s.verify());
    expect(s.replicaMap.has('r1')).toBe(false);
    // ... and those two lvols are adopted as uncached replicas of their own
    expect([...s.replicaMap.keys()].sort()).toEqual(['r10', 'r1x']);
    expect(s.replicaMap.get('r10')!.state).toBe('stopped');
  });

  it('a stopped (not running) replica marked rebuilding is not protected', async () => {
    const { s } = await headless((rpc) => rpc.call('bdev_lvol_delete', { name: 'lvs0/r1' }));
    const r = s.replicaMap.get('r1')!;
    r.isRebuildingFlag = true;
    r.state = 'stopped';
    runOne(s.verify());
    expect(s.replicaMap.has('r1')).toBe(false);
  });
});

describe('§8(b) 9: determinism', () => {
  it('the same schedule gives the same trace, the same SPDK calls and the same final state; verify ticks every 3 s of simulated time', async () => {
    const once = async () => {
      const { s } = await engineServer(UNPATCHED);
      const { res } = race(s, LIST_DURING_CREATE, 3);
      return { trace: res.trace, calls: s.spdk.calls, clock: res.clockUs, map: [...s.replicaMap.values()].map((r) => r.info()), log: s.log };
    };
    const a = await once();
    const b = await once();
    expect(b).toEqual(a);
    expect(a.clock).toBe(9_000_000);
    expect(a.trace.filter((x) => x === 'verify: sleep 3000000 MonitorInterval')).toHaveLength(3);
  });
});
