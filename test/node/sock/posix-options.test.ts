/**
 * Socket options SPDK's posix sock sets on every TCP socket it creates (spdk_sock_posix_fd_create,
 * wasm/lib/sock/sock.c), driven through the scripted kernel. TCP_NODELAY matters for ACK timing:
 * with it the kernel never holds a write's sub-MSS tail (Nagle), so a delay can only come from the
 * receiver's ACK policy (issue 12 §3).
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { connectSock, sockField, utMachine } from '../support/ut.js';

describe.each(['unpatched', 'patched'] as const)('posix sock socket options (%s)', (variant) => {
  it('a connected TCP socket has TCP_NODELAY and SO_REUSEADDR on', async () => {
    const { m, kernel } = await utMachine(variant);
    const fd = sockField(m, connectSock(m), 'fd');
    expect(kernel.sockopt(fd, abi.IPPROTO_TCP, abi.TCP_NODELAY)).toBe(1);
    expect(kernel.sockopt(fd, abi.SOL_SOCKET, abi.SO_REUSEADDR)).toBe(1);
    // Quick ACK is opt-in (enable_quickack false by default): never set here.
    expect(kernel.sockopt(fd, abi.IPPROTO_TCP, abi.TCP_QUICKACK)).toBeUndefined();
  });
});
