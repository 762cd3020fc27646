/** wasm/lib/thread: pollers (timed and untimed), messages, ticks from the world clock, and the
 *  "poll once" step the world drives (ARCHITECTURE decision 5). */
import { describe, expect, it } from 'vitest';
import { utMachine } from '../support/ut.js';

describe('lib/thread', () => {
  it('spdk_get_ticks reads the world clock (hz 1e6)', async () => {
    const { m, world } = await utMachine();
    expect(m.call('spdk_wasm_ut_get_ticks')).toBe(0);
    world.now = 123_456;
    expect(m.call('spdk_wasm_ut_get_ticks')).toBe(123_456);
  });

  it('a timed poller runs at its period and reports its deadline; the world jumps to it', async () => {
    const { m, world } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'timed');
    const p = m.call('spdk_wasm_ut_poller_register', t, 250_000, 0);
    expect(m.call('spdk_wasm_next_deadline_us')).toBe(250_000);
    const ticks: number[] = [];
    m.onTrace = (ev, a, b) => { if (ev === 'ut.poller') ticks.push(b); };
    world.add(m);
    expect(world.run(() => m.call('spdk_wasm_ut_poller_runs', p) === 4, 10e6)).toBe('done');
    expect(ticks).toEqual([250_000, 500_000, 750_000, 1_000_000]);
    expect(world.now).toBe(1_000_000);
    expect(m.call('spdk_wasm_next_deadline_us')).toBe(1_250_000);
  });

  it('an untimed poller runs on every poll; busy/idle is what poll_once reports', async () => {
    const { m } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'spin');
    const idle = m.call('spdk_wasm_ut_poller_register', t, 0, 0);
    expect(m.call('spdk_wasm_poll_once')).toBe(0);
    expect(m.call('spdk_wasm_poll_once')).toBe(0);
    expect(m.call('spdk_wasm_ut_poller_runs', idle)).toBe(2);
    m.call('spdk_wasm_ut_poller_register', t, 0, 1);
    expect(m.call('spdk_wasm_poll_once')).toBe(1);
    expect(m.call('spdk_wasm_next_deadline_us')).toBe(-1);
  });

  it('an unregistered poller stops running', async () => {
    const { m } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'u');
    const p = m.call('spdk_wasm_ut_poller_register', t, 0, 0);
    m.call('spdk_wasm_poll_once');
    m.call('spdk_wasm_ut_poller_unregister', t, p);
    m.call('spdk_wasm_poll_once');
    m.call('spdk_wasm_poll_once');
    expect(m.call('spdk_wasm_ut_poller_runs', p)).toBe(1);
  });

  it('messages run on their target thread, in order, on the next poll', async () => {
    const { m } = await utMachine();
    const a = m.callStr('spdk_wasm_ut_thread_create', 'a');
    const b = m.callStr('spdk_wasm_ut_thread_create', 'b');
    const seen: [number, number][] = [];
    m.onTrace = (ev, tag, tid) => { if (ev === 'ut.msg') seen.push([tag, tid]); };
    expect(m.call('spdk_wasm_ut_send_msg', b, 1)).toBe(0);
    expect(m.call('spdk_wasm_ut_send_msg', a, 2)).toBe(0);
    expect(m.call('spdk_wasm_ut_send_msg', b, 3)).toBe(0);
    expect(seen).toEqual([]);
    expect(m.call('spdk_wasm_poll_once')).toBe(1);
    const ida = m.call('spdk_wasm_ut_thread_id', a);
    const idb = m.call('spdk_wasm_ut_thread_id', b);
    expect(seen.filter(([, tid]) => tid === idb).map(([tag]) => tag)).toEqual([1, 3]);
    expect(seen.filter(([, tid]) => tid === ida).map(([tag]) => tag)).toEqual([2]);
  });

  // Upstream (lib/thread/thread.c at the base) dequeues a bounded batch from the thread's ring
  // before running any of it, so a message sent while the batch runs waits for the next poll.
  it('a message enqueued during a batch runs on the next spdk_thread_poll', async () => {
    const { m } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'relay');
    const seen: number[] = [];
    m.onTrace = (ev, tag) => { if (ev === 'ut.msg') seen.push(tag); };
    expect(m.call('spdk_wasm_ut_send_msg', t, 0x10000 | 7)).toBe(0);
    m.call('spdk_wasm_poll_once');
    expect(seen).toEqual([0x10007]);
    m.call('spdk_wasm_poll_once');
    expect(seen).toEqual([0x10007, 7]);
  });

  it('one poll runs at most SPDK_MSG_BATCH_SIZE (8) messages; the rest wait their turn, in order', async () => {
    const { m } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'many');
    const seen: number[] = [];
    m.onTrace = (ev, tag) => { if (ev === 'ut.msg') seen.push(tag); };
    for (let i = 1; i <= 11; i++) m.call('spdk_wasm_ut_send_msg', t, i);
    m.call('spdk_wasm_poll_once');
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    m.call('spdk_wasm_poll_once');
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  // Upstream walks active_pollers with TAILQ_FOREACH_REVERSE_SAFE: the newest poller runs first.
  it('pollers registered A then B run B first', async () => {
    const { m } = await utMachine();
    const t = m.callStr('spdk_wasm_ut_thread_create', 'order');
    const a = m.call('spdk_wasm_ut_poller_register', t, 0, 0);
    const b = m.call('spdk_wasm_ut_poller_register', t, 0, 0);
    const c = m.call('spdk_wasm_ut_poller_register', t, 0, 0);
    const order: number[] = [];
    m.onTrace = (ev, _runs, _ticks, who) => { if (ev === 'ut.poller') order.push(who); };
    m.call('spdk_wasm_poll_once');
    expect(order).toEqual([c, b, a]);
  });
});

