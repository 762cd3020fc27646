/** The README's "test against the real C" example, verbatim, so it keeps working. */
import { expect, it } from 'vitest';
import { connectSock, makeReq, reqField, sockField, utMachine } from './support/ut.js';

it('a 128 KiB request split 126976 + 4096 waits for its zero-copy notification (patched)', async () => {
  const { m, kernel } = await utMachine('patched');           // real C, scripted kernel
  const sock = connectSock(m, { threshold: 8192 });
  const { req } = makeReq(m, 131072);
  kernel.enqueue('sendmsg', 126976, 4096);                     // MOCK_ENQUEUE(sendmsg, ...)
  m.api.spdk_wasm_sock_writev_async(sock, req);               // typed calls of the C exports
  m.api.spdk_wasm_sock_flush(sock);
  m.api.spdk_wasm_sock_flush(sock);
  expect(reqField(m, req, 'completions')).toBe(0);             // still pending on id 0
  kernel.notify(sockField(m, sock, 'fd'), 0, 0);               // the kernel releases id 0
  m.api.spdk_wasm_sock_flush(sock);
  expect(reqField(m, req, 'completions')).toBe(1);
});
