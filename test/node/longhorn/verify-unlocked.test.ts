/**
 * Spec §8(b) item 8 (longhorn/longhorn#13074): verify releasing the server lock during its SPDK
 * calls (f01edc84) lets a stale map overwrite a replica created or re-created meanwhile; the
 * replicaMapGen counter (PR #516, d85f82bf) makes verify drop its stale map instead.
 */
import { describe, expect, it } from 'vitest';
import type { TaskBody } from '../../../host/explore/task.js';
import type { Server } from '../../../host/longhorn/spdk-engine/server.js';
import { createReq, engineServer, UNLOCKED_VERIFY, UNLOCKED_VERIFY_GEN } from './engine-harness.js';
import { phases, run, runOne } from './mini-runner.js';

function* deleteThenCreate(s: Server): TaskBody<string> {
  yield* s.replicaDelete('r1', true);
  const r = yield* s.replicaCreate(createReq('r1'));
  return r.id;
}

describe('§8(b) 8: verify with the lock released during its SPDK calls', () => {
  it('#13074 unpatched: a ReplicaCreate while verify is unlocked is overwritten by an uncached replica', async () => {
    const { s } = await engineServer(UNLOCKED_VERIFY);
    const res = run([{ name: 'verify', body: s.verify() }, { name: 'create', body: s.replicaCreate(createReq('r1')) }],
      phases([{ task: 'verify', until: 'bdev_get_bdevs' }, { task: 'create' }]));
    const created = res.outcomes.get('create')!.value as { id: string; state: string };
    expect(created).toMatchObject({ id: 'r1#1', state: 'running' });
    expect(s.log).toContain('verify: lvol r1 adopted as uncached replica r1#2');
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ id: 'r1#2', state: 'stopped', portStart: 0, isExposed: false });
  });

  it('#13074 fixed by replicaMapGen: the stale map is not written back', async () => {
    const { s } = await engineServer(UNLOCKED_VERIFY_GEN);
    run([{ name: 'verify', body: s.verify() }, { name: 'create', body: s.replicaCreate(createReq('r1')) }],
      phases([{ task: 'verify', until: 'bdev_get_bdevs' }, { task: 'create' }]));
    expect(s.log).toContain('verify: replicaMapGen moved 0 -> 1: stale map not written back');
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ id: 'r1#1', state: 'running', portStart: 20001, isExposed: true });
  });

  it('#13074 unpatched: a ReplicaDelete + ReplicaCreate in the window is undone (the deleted object is back)', async () => {
    const { s } = await engineServer(UNLOCKED_VERIFY);
    runOne(s.replicaCreate(createReq('r1')));
    const res = run([{ name: 'verify', body: s.verify() }, { name: 'client', body: deleteThenCreate(s) }],
      phases([{ task: 'verify', until: 'lock server' }, { task: 'client' }]));
    expect(res.outcomes.get('client')!.value).toBe('r1#2');
    const now = runOne(s.replicaGet('r1'));
    expect(now.id).toBe('r1#1');
    expect(now.state).toBe('terminating');
  });

  it('#13074 fixed: the re-created replica stays', async () => {
    const { s } = await engineServer(UNLOCKED_VERIFY_GEN);
    runOne(s.replicaCreate(createReq('r1')));
    run([{ name: 'verify', body: s.verify() }, { name: 'client', body: deleteThenCreate(s) }],
      phases([{ task: 'verify', until: 'lock server' }, { task: 'client' }]));
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ id: 'r1#2', state: 'running', isExposed: true, portStart: 20001 });
  });

  it('with the lock held across the calls (before f01edc84) the same requests wait and nothing is overwritten', async () => {
    const { s } = await engineServer({ ...UNLOCKED_VERIFY, verifyLock: 'held' });
    runOne(s.replicaCreate(createReq('r1')));
    const res = run([{ name: 'verify', body: s.verify() }, { name: 'client', body: deleteThenCreate(s) }],
      phases([{ task: 'verify', until: 'bdev_get_bdevs' }, { task: 'client' }]));
    // the client was offered the CPU while verify listed the bdevs, but waited for the lock
    expect(res.trace.indexOf('client: lock server (R)')).toBeGreaterThan(res.trace.indexOf('verify: unlock server'));
    expect(res.trace.indexOf('verify: bdev_get_bdevs')).toBeLessThan(res.trace.indexOf('client: lock server (R)'));
    expect(runOne(s.replicaGet('r1'))).toMatchObject({ id: 'r1#2', state: 'running' });
  });
});
