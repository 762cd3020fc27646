/** Test support: one machine running the real C against a ScriptedKernel. */
import { World } from '../../../host/sim/world.js';
import { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import type { Flavor, Variant } from '../../../host/spdk/variant.js';
import type { Ptr } from '../../../host/gen/spdk-api.js';
import { ScriptedKernel } from '../../../host/fuzz/scripted-kernel.js';

export interface Ut {
  world: World;
  kernel: ScriptedKernel;
  m: SpdkMachine;
}

export async function utMachine(variant: Variant = 'unpatched', flavor: Flavor = 'release'): Promise<Ut> {
  const world = new World(1);
  const kernel = new ScriptedKernel();
  const m = await SpdkMachine.create({
    world,
    name: 'ut',
    variant: await loadVariant(variant, flavor),
    kernel: (mem) => {
      kernel.mem = mem;
      return kernel;
    },
  });
  return { world, kernel, m };
}

export const REQ_FIELD = {
  list: 0, offset: 1, zcopyFlag: 2, zcopyIdx: 3, completions: 4, lastErr: 5, iovcnt: 6,
  cbFlushRc: 7, cbOffset: 8, cbZcopyFlag: 9,
} as const;
/** What a test request's completion callback does (spdk_wasm_req_set_on_complete). */
export const ON_COMPLETE = { record: 0, flush: 1, requeue: 2 } as const;
export const SOCK_FIELD = {
  sendmsgIdx: 0, zcopy: 1, queuedIovcnt: 2, queued: 3, pending: 4, fd: 5, closed: 6, cbCnt: 7,
  // The receive pipe (pipeBytes is UINT32_MAX without a pipe).
  recvBufSz: 8, pipeBytes: 9, pipeHasData: 10, socketHasData: 11, onSocksWithData: 12,
} as const;
export const LIST = { none: 0, queued: 1, pending: 2 } as const;

export type Sock = Ptr<'spdk_sock'>;
export type Req = Ptr<'spdk_sock_request'>;

export function reqField(m: SpdkMachine, req: Req, f: keyof typeof REQ_FIELD): number {
  const v = m.api.spdk_wasm_req_get(req, REQ_FIELD[f]);
  return f === 'lastErr' || f === 'cbFlushRc' ? v | 0 : v;
}

export function sockField(m: SpdkMachine, sock: Sock, f: keyof typeof SOCK_FIELD): number {
  return m.api.spdk_wasm_sock_get(sock, SOCK_FIELD[f]);
}

/** A request of `len` bytes split over `iovcnt` iovecs of one zeroed buffer. */
export function makeReq(m: SpdkMachine, len: number, iovcnt = 1): { req: Req; buf: number } {
  const buf = m.api.spdk_wasm_malloc(len);
  const req = m.api.spdk_wasm_req_alloc(iovcnt);
  const per = Math.ceil(len / iovcnt);
  for (let i = 0; i < iovcnt; i++) {
    m.api.spdk_wasm_req_set_iov(req, i, buf + i * per, Math.min(per, len - i * per));
  }
  return { req, buf };
}

/** Sets posix impl opts and connects a socket (zero copy requested) to 192.0.2.2:4420. */
export function connectSock(m: SpdkMachine, o: { zcopyClient?: boolean; threshold?: number; zcopy?: boolean } = {}): Sock {
  const rc = m.api.spdk_wasm_sock_set_opts('posix', 1, o.zcopyClient === false ? 0 : 1, o.threshold ?? 0, 2 << 20, 2 << 20);
  if (rc !== 0) throw new Error(`spdk_wasm_sock_set_opts failed: ${rc}`);
  const sock = m.api.spdk_wasm_sock_connect('192.0.2.2', 4420, o.zcopy === false ? 0 : 1, 0);
  if (sock === 0) throw new Error('spdk_wasm_sock_connect returned NULL');
  // The connect is asynchronous (posix_connect_poller): a flush with nothing queued completes it,
  // which is when posix_sock_init enables zero copy and sets sendmsg_idx to UINT32_MAX.
  const flushed = m.api.spdk_wasm_posix_flush(sock);
  if (flushed !== 0) throw new Error(`connect did not complete: _sock_flush returned ${flushed}`);
  return sock;
}
