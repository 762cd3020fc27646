import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { connectPair, fill, makeNet, pattern, runUntil } from './net-harness.js';

/** A lossy, jittery transfer with zero copy; returns the trace digest and event count. */
function digest(seed: number): [string, number] {
  const net = makeNet(seed, { latencyUs: 40, jitterUs: 30, loss: 0.02, reorder: 0.02 }, { mss: 1400 });
  const { c, s } = connectPair(net, 4420, [
    [abi.SOL_SOCKET, abi.SO_ZEROCOPY, 1],
    [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1],
    [abi.SOL_SOCKET, abi.SO_SNDBUF, 1 << 20],
  ]);
  fill(net.memIni, 0, pattern(100_000, seed));
  net.ini.sendmsg(c, [{ base: 0, len: 100_000 }], abi.MSG_ZEROCOPY);
  let got = 0;
  runUntil(net, () => {
    for (let n = net.tgt.readv(s, [{ base: 0, len: 65536 }]); n > 0; n = net.tgt.readv(s, [{ base: 0, len: 65536 }])) got += n;
    return got === 100_000 && net.ini.sockInfo(c)!.errqueueLen === 1;
  }, 600_000_000);
  return [net.world.trace.digest(), net.world.trace.count];
}

describe('determinism', () => {
  it('the same seed gives the same trace digest; another seed a different one', () => {
    const a = digest(1234);
    expect(digest(1234)).toEqual(a);
    expect(a[1]).toBeGreaterThan(100);
    const b = digest(1235);
    expect(b[0]).not.toBe(a[0]);
  });
});
