/**
 * Test support (Node only): finds Debian's tshark, installing it with apt-get when it is missing and
 * we are root (host/debian-package.ts), and runs it on capture files. A suite that needs tshark
 * skips only when it cannot be had, and says why in its name.
 */
import { spawnSync } from 'node:child_process';
import { findOrInstall, SYSTEM, which, type Availability } from '../../../host/debian-package.js';

export type TsharkAvailability = Availability;

let cached: TsharkAvailability | undefined;

export function ensureTshark(): TsharkAvailability {
  cached ??= findOrInstall({ pkg: 'tshark', find: () => which('tshark') }, SYSTEM);
  return cached;
}

/** Runs tshark; throws with its stderr when it fails. Stdout as text. */
export function tshark(args: string[]): string {
  const t = ensureTshark();
  if (t.path === undefined) throw new Error(t.why);
  const r = spawnSync(t.path, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed (status ${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Options that make tshark verify every IPv4 and TCP checksum. */
export const CHECK_CHECKSUMS = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];

/** Expert severity of a warning (PI_WARN); errors (malformed packets, bad checksums) rank above. */
const PI_WARN = 0x00600000;

/** Frames tshark reports as malformed, with a bad checksum, or with an expert warning or error. */
export function problemFrames(file: string, extra: string[] = []): string[] {
  const filter = `_ws.malformed || _ws.expert.severity >= ${PI_WARN} || tcp.checksum.status == 0 || ip.checksum.status == 0`;
  const out = tshark(['-r', file, ...CHECK_CHECKSUMS, ...extra, '-Y', filter]);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** Both directions of TCP stream `index` as tshark reassembles it (follow,tcp,raw). */
export function followTcp(file: string, index = 0, extra: string[] = []): { client: Uint8Array; server: Uint8Array } {
  const out = tshark(['-r', file, ...extra, '-q', '-z', `follow,tcp,raw,${index}`]);
  const client: string[] = [];
  const server: string[] = [];
  let inBody = false;
  for (const line of out.split('\n')) {
    if (line.startsWith('Node 1:')) {
      inBody = true;
      continue;
    }
    if (!inBody) continue;
    if (line.startsWith('=====')) break;
    if (line.startsWith('\t')) server.push(line.trim());
    else if (line.trim() !== '') client.push(line.trim());
  }
  return { client: Buffer.from(client.join(''), 'hex'), server: Buffer.from(server.join(''), 'hex') };
}

/** Frames tshark's TCP analysis calls retransmitted, out of order, or acking/following a gap. */
export function sequenceProblems(file: string, extra: string[] = []): string[] {
  const filter = 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission'
    + ' || tcp.analysis.out_of_order || tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment';
  return tshark(['-r', file, ...extra, '-Y', filter]).split('\n').filter((l) => l.trim() !== '');
}

export interface TcpRow {
  frame: number;
  src: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  len: number;
  flags: number;
}

/** One row per TCP frame as tshark dissects it: raw seq/ack, length, flags. */
export function tcpRows(file: string, extra: string[] = []): TcpRow[] {
  const out = tshark(['-r', file, ...extra, '-T', 'fields', '-E', 'separator=/t',
    '-e', 'frame.number', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw',
    '-e', 'tcp.ack_raw', '-e', 'tcp.len', '-e', 'tcp.flags']);
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const f = l.split('\t');
    return {
      frame: Number(f[0]),
      src: f[1] ?? '',
      sport: Number(f[2]),
      dport: Number(f[3]),
      seq: Number(f[4]),
      ack: Number(f[5]),
      len: Number(f[6]),
      flags: Number(f[7]),
    };
  });
}

/**
 * The NVMe/TCP PDU types tshark decodes in a capture, with `port` forced to the nvme-tcp dissector.
 * Names follow the spec's table (0x00 ICReq ... 0x09 R2T); unknown codes come back as `type 0xNN`.
 */
export function nvmeTcpPduTypes(file: string, port = 4420): Set<string> {
  const out = tshark(['-r', file, '-d', `tcp.port==${port},nvme-tcp`, '-T', 'fields', '-e', 'nvme-tcp.type']);
  const seen = new Set<string>();
  for (const line of out.split('\n')) {
    for (const v of line.split(',')) {
      if (v.trim() === '') continue;
      const code = Number(v);
      seen.add(PDU_NAMES[code] ?? `type 0x${code.toString(16).padStart(2, '0')}`);
    }
  }
  return seen;
}

const PDU_NAMES: Record<number, string> = {
  0x00: 'ICReq', 0x01: 'ICResp', 0x02: 'H2CTermReq', 0x03: 'C2HTermReq', 0x04: 'CapsuleCmd',
  0x05: 'CapsuleResp', 0x06: 'H2CData', 0x07: 'C2HData', 0x09: 'R2T',
};
