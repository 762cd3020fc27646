/** The race scenario under the explorer itself: the printed schedule replays exactly, a schedule
 *  that does not fit is refused with its step, and each run starts from a clean target. */
import { describe, expect, it } from 'vitest';
import { explore, replay, ScheduleError } from '../../../host/explore/explorer.js';
import { raceModel } from '../../../host/scenarios/replica-verify-race-model.js';
import { engineServer, IP, PATCHED } from './engine-harness.js';

describe('replica-verify-race under the explorer', () => {
  it('the shortest violating schedule replays to the same trace hash and the same observation', async () => {
    const { rpc } = await engineServer(PATCHED);
    const m = raceModel(rpc, '9953', false, IP);
    const r = explore(m.scenario, { preemptions: 2 });
    const v = r.violation!;
    const seen = m.last();
    const again = replay(m.scenario, v.schedule);
    expect(again.hash).toBe(v.hash);
    expect(again.violation).toEqual(v.violation);
    expect(m.last()).toEqual(seen);
  });

  it('a schedule that does not fit is refused with the step where it diverged', async () => {
    const { rpc } = await engineServer(PATCHED);
    const m = raceModel(rpc, '9953', false, IP);
    let err: unknown;
    try {
      replay(m.scenario, 'create*2,nobody');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScheduleError);
    expect((err as ScheduleError).step).toBe(2);
    expect(() => replay(m.scenario, 'create*3')).toThrow(ScheduleError);
  });

  it('every run starts from the same target: the state left by one run is not seen by the next', async () => {
    const { rpc } = await engineServer(PATCHED);
    const m = raceModel(rpc, '9953', true, IP);
    const first = explore(m.scenario, { preemptions: 1 });
    const second = explore(m.scenario, { preemptions: 1 });
    expect(second).toEqual(first);
    expect(rpc.call('nvmf_get_subsystems')).toHaveLength(1);
    expect((rpc.call('bdev_lvol_get_lvols', {}) as unknown[]).length).toBe(1);
  });
});
