/** Replica create/expose/delete/get and the engine's periodic checks, each observed through
 *  SPDK's JSON-RPC (lvols, subsystems) and the server's maps. */
import { describe, expect, it } from 'vitest';
import { replicaNqn } from '../../../host/longhorn/spdk-engine/types.js';
import type { RpcServer } from '../../../host/spdk/jsonrpc.js';
import { createReq, engineServer, IP, MiB, PATCHED } from './engine-harness.js';
import { runOne } from './mini-runner.js';

const lvols = (rpc: RpcServer) => (rpc.call('bdev_lvol_get_lvols', {}) as { name: string }[]).map((l) => l.name).sort();
const nqns = (rpc: RpcServer) => (rpc.call('nvmf_get_subsystems') as { nqn: string }[]).map((s) => s.nqn);

describe('Replica lifecycle', () => {
  it('Create: thin head lvol of the spec size (rounded up to MiB), chain [null, head], exposed on the first port', async () => {
    const { s, rpc, lvsUuid } = await engineServer(PATCHED);
    const r = runOne(s.replicaCreate({ name: 'r1', lvsName: 'lvs0', specSize: 5 * MiB + 1, portCount: 3 }));
    expect(r).toMatchObject({ state: 'running', lvsUuid, specSize: 6 * MiB, portStart: 20001, portEnd: 20003, isExposed: true, head: 'r1', snapshots: [] });
    expect(s.replicaMap.get('r1')!.activeChain).toEqual([null, 'r1']);
    const [b] = rpc.call('bdev_get_bdevs', { name: 'lvs0/r1' }) as { num_blocks: number; block_size: number; driver_specific: { lvol: { thin_provision: boolean } } }[];
    expect(b!.num_blocks * b!.block_size).toBe(6 * MiB);
    expect(b!.driver_specific.lvol.thin_provision).toBe(true);
    expect(rpc.call('nvmf_get_subsystems')).toMatchObject([{ nqn: 'nqn.2023-01.io.longhorn.spdk:r1', listen_addresses: [{ traddr: IP, trsvcid: '20001' }] }]);
  });

  it('Create by lvstore UUID, and a second replica gets the next port range', async () => {
    const { s, lvsUuid } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    const r2 = runOne(s.replicaCreate({ name: 'r2', lvsUuid, specSize: MiB, portCount: 2 }));
    expect(r2).toMatchObject({ lvsName: 'lvs0', portStart: 20003, portEnd: 20004 });
  });

  it('Delete without cleanup: unexposed, ports released, lvol kept, state stopped, map entry kept; Create again re-exposes', async () => {
    const { s, rpc } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    runOne(s.replicaDelete('r1', false));
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ state: 'stopped', isExposed: false, portStart: 0, portEnd: 0 });
    expect(nqns(rpc)).toEqual([]);
    expect(lvols(rpc)).toEqual(['r1']);
    expect(s.ports.inUse()).toBe(0);
    expect(runOne(s.replicaCreate(createReq('r1')))).toMatchObject({ id: 'r1#1', state: 'running', isExposed: true, portStart: 20001 });
    expect(lvols(rpc)).toEqual(['r1']);
  });

  it('Delete with cleanup: head and the replica\'s snapshots deleted, the backing image\'s snapshot and other lvols kept, map entry dropped', async () => {
    const { s, rpc, lvsUuid } = await engineServer(PATCHED);
    rpc.call('bdev_lvol_create', { lvol_name: 'bi-img-disk-temp', size_in_mib: 4, lvs_name: 'lvs0', thin_provision: true });
    const biSnap = `bi-img-disk-${lvsUuid}`;
    rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/bi-img-disk-temp', snapshot_name: biSnap });
    rpc.call('bdev_lvol_delete', { name: 'lvs0/bi-img-disk-temp' });
    s.backingImageMap.set(biSnap, `lvs0/${biSnap}`);
    const r = runOne(s.replicaCreate({ ...createReq('r1'), backingImageName: 'img' }));
    expect(r.state).toBe('running');
    expect(s.replicaMap.get('r1')!.activeChain).toEqual([biSnap, 'r1']);
    rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/r1', snapshot_name: 'r1-snap-s1' });
    rpc.call('bdev_lvol_create', { lvol_name: 'other', size_in_mib: 1, lvs_name: 'lvs0', thin_provision: true });
    expect(lvols(rpc)).toEqual([biSnap, 'other', 'r1', 'r1-snap-s1'].sort());
    runOne(s.replicaDelete('r1', true));
    expect(lvols(rpc)).toEqual([biSnap, 'other'].sort());
    expect(s.replicaMap.has('r1')).toBe(false);
    expect(nqns(rpc)).toEqual([]);
    expect(s.ports.inUse()).toBe(0);
  });

  it('Delete with cleanup of an unknown replica is a no-op', async () => {
    const { s } = await engineServer(PATCHED);
    runOne(s.replicaDelete('r9', true));
    expect(s.replicaMap.size).toBe(0);
  });

  it('verify keeps a healthy running replica running, and sees a snapshot taken behind its back as a chain mismatch', async () => {
    const { s, rpc } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    runOne(s.verify());
    expect(s.replicaMap.get('r1')!.state).toBe('running');
    rpc.call('bdev_lvol_snapshot', { lvol_name: 'lvs0/r1', snapshot_name: 'r1-snap-x' });
    runOne(s.verify());
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ state: 'error', errorMsg: 'replica r1 active chain has 2 entries, SPDK has 3' });
  });

  it('verify marks a running replica whose export vanished as error', async () => {
    const { s, rpc } = await engineServer(PATCHED);
    runOne(s.replicaCreate(createReq('r1')));
    rpc.call('nvmf_delete_subsystem', { nqn: replicaNqn('r1') });
    runOne(s.verify());
    expect(s.replicaMap.get('r1')!.info()).toMatchObject({ state: 'error', errorMsg: `replica r1 is running but not exposed at ${IP}:20001` });
  });
});

describe('Engine.ValidateAndUpdate', () => {
  it('a replica unexposed under the engine goes ERR and the engine, with no RW left, goes error', async () => {
    const { s } = await engineServer(PATCHED);
    const r1 = runOne(s.replicaCreate(createReq('r1')));
    const r2 = runOne(s.replicaCreate(createReq('r2')));
    runOne(s.engineCreate({ name: 'e', volumeName: 'vol', specSize: 8 * MiB, frontend: '', replicaAddressMap: { r1: `${IP}:${r1.portStart}`, r2: `${IP}:${r2.portStart}` } }));
    runOne(s.replicaDelete('r1', false));
    runOne(s.verify());
    expect(runOne(s.engineGet('e'))).toMatchObject({ state: 'running', replicaModeMap: { r1: 'ERR', r2: 'RW' } });
    runOne(s.replicaDelete('r2', true));
    runOne(s.verify());
    expect(runOne(s.engineGet('e'))).toMatchObject({ state: 'error', replicaModeMap: { r1: 'ERR', r2: 'ERR' } });
  });
});
