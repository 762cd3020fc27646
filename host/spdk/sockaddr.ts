/** struct sockaddr_in between guest memory and the kernel's SockAddrIn, for the socket and the
 *  RDMA-CM imports alike. */
import * as abi from '../gen/abi.js';
import type { SockAddrIn } from '../kernel/host-kernel.js';
import type { GuestView } from './guest-memory.js';

export function decodeSockaddr(mem: GuestView, ptr: number, len: number): SockAddrIn | number {
  if (ptr === 0 || len < abi.SIZEOF_sockaddr_in) return -abi.EINVAL;
  if (mem.u16(ptr + abi.OFFSETOF_sockaddr_in_sin_family) !== abi.AF_INET) return -abi.EOPNOTSUPP;
  const port = mem.view().getUint16(ptr + abi.OFFSETOF_sockaddr_in_sin_port, false);
  const a = mem.bytes().subarray(ptr + abi.OFFSETOF_sockaddr_in_sin_addr, ptr + abi.OFFSETOF_sockaddr_in_sin_addr + 4);
  return { addr: `${a[0]}.${a[1]}.${a[2]}.${a[3]}`, port };
}

export function encodeSockaddr(mem: GuestView, ptr: number, lenPtr: number, sa: SockAddrIn): void {
  if (ptr === 0) return;
  const room = lenPtr !== 0 ? mem.u32(lenPtr) : abi.SIZEOF_sockaddr_in;
  const tmp = new Uint8Array(abi.SIZEOF_sockaddr_in);
  const dv = new DataView(tmp.buffer);
  dv.setUint16(abi.OFFSETOF_sockaddr_in_sin_family, abi.AF_INET, true);
  dv.setUint16(abi.OFFSETOF_sockaddr_in_sin_port, sa.port, false);
  tmp.set(sa.addr.split('.').map(Number), abi.OFFSETOF_sockaddr_in_sin_addr);
  mem.write(ptr, tmp.subarray(0, Math.min(room, tmp.length)));
  if (lenPtr !== 0) mem.setU32(lenPtr, abi.SIZEOF_sockaddr_in);
}
