/**
 * Upstream names for the numbers the NVMe/TCP target's trace points carry (labels only; the C's
 * enums are the source): request states (spec nvmf-tcp-rdma §1.1), zcopy phases (§1.3), TCP and
 * generic qpair states (§1.6, §2) and NVMe/TCP PDU types (§4.1).
 */
import * as abi from '../../../../gen/abi.js';
export const TCP_REQUEST_STATES = [
  'TCP_REQUEST_STATE_FREE',
  'TCP_REQUEST_STATE_NEW',
  'TCP_REQUEST_STATE_NEED_BUFFER',
  'TCP_REQUEST_STATE_HAVE_BUFFER',
  'TCP_REQUEST_STATE_AWAITING_ZCOPY_START',
  'TCP_REQUEST_STATE_ZCOPY_START_COMPLETED',
  'TCP_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER',
  'TCP_REQUEST_STATE_AWAITING_R2T_ACK',
  'TCP_REQUEST_STATE_READY_TO_EXECUTE',
  'TCP_REQUEST_STATE_EXECUTING',
  'TCP_REQUEST_STATE_AWAITING_ZCOPY_COMMIT',
  'TCP_REQUEST_STATE_EXECUTED',
  'TCP_REQUEST_STATE_READY_TO_COMPLETE',
  'TCP_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST',
  'TCP_REQUEST_STATE_AWAITING_ZCOPY_RELEASE',
  'TCP_REQUEST_STATE_COMPLETED',
] as const;

export const TCP_REQUEST_STATE_FREE = 0;
export const TCP_REQUEST_STATE_COMPLETED = 15;

export const ZCOPY_PHASES = ['NONE', 'INIT', 'EXECUTE', 'END_PENDING', 'COMPLETE', 'INIT_FAILED'] as const;
export const NVMF_QPAIR_STATES = ['UNINITIALIZED', 'CONNECTING', 'AUTHENTICATING', 'ENABLED', 'DEACTIVATING', 'ERROR'] as const;
export const TCP_QPAIR_STATES = ['INVALID', 'INITIALIZING', 'RUNNING', 'EXITING', 'EXITED'] as const;

const PDU_TYPES: Record<number, string> = {
  0: 'ICReq', 1: 'ICResp', 2: 'H2CTermReq', 3: 'C2HTermReq', 4: 'CapsuleCmd', 5: 'CapsuleResp', 6: 'H2CData', 7: 'C2HData', 9: 'R2T',
};

export function pduType(n: number): string {
  return PDU_TYPES[n] ?? `PDU type ${n}`;
}

export function reqState(n: number): string {
  return TCP_REQUEST_STATES[n] ?? `state ${n}`;
}

/** Short form for tight places: "COMPLETED". */
export function reqStateShort(n: number): string {
  return reqState(n).replace('TCP_REQUEST_STATE_', '');
}

/** The errnos a socket abort reports, by name (the numbers are emscripten's, from gen/abi.ts). */
export function errnoName(n: number): string {
  const known: Record<number, string> = { [abi.ETIMEDOUT]: 'ETIMEDOUT', [abi.ECONNRESET]: 'ECONNRESET', [abi.EPIPE]: 'EPIPE', [abi.ECONNABORTED]: 'ECONNABORTED' };
  return known[n] ?? `errno ${n}`;
}
