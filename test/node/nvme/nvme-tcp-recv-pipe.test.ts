/**
 * The NVMe/TCP callers of spdk_sock_set_recvbuf, as upstream v25.01: the initiator sizes each
 * qpair's receive pipe in the ICResp handler for SPDK_NVMF_TCP_RECV_BUF_SIZE_FACTOR (8) C2HData
 * PDUs of 4 KiB, the target in the ICReq handler for 8 capsules of in-capsule data (less the
 * digests the host left off). With the pipes, a randread workload makes far fewer kernel reads on
 * both machines than with enable_recv_pipe off, and the data is the same.
 */
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../../host/kernel/kernel.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { createRpcServer } from '../../../host/spdk/rpc/index.js';
import { pair, qf, randread, type Pair } from './support.js';

const FACTOR = 8;
const C2H_DATA_HDR = 24;
const CAPSULE_CMD = 72;
const DIGEST = 4;

/** Counts data reads (readv, recv, recvmsg without MSG_ERRQUEUE) a machine's kernel serves. */
function countReads(m: SpdkMachine): { n: number } {
  const k = m.kernel as Kernel;
  const c = { n: 0 };
  const readv = k.readv.bind(k);
  k.readv = (...a: Parameters<Kernel['readv']>) => {
    c.n++;
    return readv(...a);
  };
  return c;
}

/** The target's TCP qpairs' recv_buf_size (field 19), in creation order (admin first). */
function targetRecvBufSizes(target: SpdkMachine): number[] {
  const n = target.api.spdk_wasm_nvmf_tcp_qpair_count();
  return Array.from({ length: n }, (_, i) => target.api.spdk_wasm_nvmf_tcp_qpair_field(target.api.spdk_wasm_nvmf_tcp_qpair_get(i), 19));
}

describe('NVMe/TCP receive pipes (spdk_sock_set_recvbuf callers)', () => {
  it.each([
    [false, false], [true, false], [false, true], [true, true],
  ])('hdgst %s, ddgst %s: pipe sizes follow upstream\'s formulas on both ends', async (hdgst, ddgst) => {
    const p = await pair({ hdgst, ddgst });
    const dg = (hdgst ? DIGEST : 0) + (ddgst ? DIGEST : 0);
    const initiator = (0x1000 + C2H_DATA_HDR + dg) * FACTOR;
    expect([qf(p, 0, 9), qf(p, 1, 9)]).toEqual([initiator, initiator]);
    const target = (4096 + CAPSULE_CMD + 2 * DIGEST) * FACTOR - (2 * DIGEST - dg) * FACTOR;
    expect(targetRecvBufSizes(p.target)).toEqual([target, target]);
  });

  it('randread 4 KiB QD16: far fewer kernel reads with the pipes than with enable_recv_pipe off', async () => {
    const perIo = async (recvPipe: boolean): Promise<{ host: number; target: number }> => {
      const p = await pairWith(recvPipe);
      expect(qf(p, 1, 9)).toBe(recvPipe ? (0x1000 + C2H_DATA_HDR) * FACTOR : 0);
      const h = countReads(p.host);
      const t = countReads(p.target);
      randread(p, 16, 800);
      return { host: h.n / 800, target: t.n / 800 };
    };
    const withPipe = await perIo(true);
    const without = await perIo(false);
    // Without the pipe the initiator reads CH, PSH and data of each PDU apart, the target CH and
    // PSH of each capsule; with it one readv serves several PDUs.
    expect(withPipe.host).toBeLessThan(without.host / 2);
    expect(withPipe.target).toBeLessThan(without.target / 2);
  });
});

/** pair() with posix enable_recv_pipe set on both machines before anything connects. */
function pairWith(recvPipe: boolean): Promise<Pair> {
  return pair({}, 1, undefined, (m) => {
    expect(createRpcServer(m).call('sock_impl_set_options', { impl_name: 'posix', enable_recv_pipe: recvPipe })).toBe(true);
  });
}
