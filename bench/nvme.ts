/**
 * NVMe/TCP through the full stack: initiator machine -> emulated wire -> target -> malloc bdev and
 * back, driven by the C bdevperf. Simulated I/Os per wall second at queue depth 1 and 32.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { resolveParams } from '../host/scenarios/params.js';
import { buildTestbed } from '../host/scenarios/testbed.js';
import { ATTACH, NVME_HOST_IP, NVME_TARGET_IP, setupNvmeTcp, waitAttached } from '../host/scenarios/zcopy-threshold-nvme.js';
import { tcpZcopyDisconnect } from '../host/scenarios/tcp-zcopy-disconnect.js';
import { loadVariant } from '../host/spdk/node-loader.js';

/** bdevperf workloads (wasm/api/spdk_wasm_nvme.c) and counters used here. */
const WORKLOAD = { randread: 1, write: 5 } as const;
const COUNTER = { completed: 1, failed: 2 } as const;
const WARMUP_MS = 1500;

async function one(workload: keyof typeof WORKLOAD, ioSize: number, qd: number, ioCount: number): Promise<Record<string, number>> {
  const opts = { variant: 'patched' as const, flavor: 'release' as const, seed: 1, params: {}, load: loadVariant };
  const tb = await buildTestbed(opts, {
    mss: 1448, latencyUs: 20, jitterUs: 0, lossPpm: 0, tsoBytes: 65536,
    machines: [{ name: 'host', ip: NVME_HOST_IP }, { name: 'target', ip: NVME_TARGET_IP }],
  });
  const host = tb.machine('host');
  const target = tb.machine('target');
  const id = setupNvmeTcp(target, host, { blocks: 65536, blockSize: 512, sndbuf: 4 << 20 });
  if (waitAttached(tb, host, id) !== ATTACH.READY) throw new Error('bench: the initiator did not attach');
  const rc = host.api.spdk_wasm_bdevperf_start(id, WORKLOAD[workload], ioSize, qd, 0, 0, ioCount, 1, 0);
  if (rc < 0) throw new Error(`bench: bdevperf_start failed with errno ${-rc}`);
  const simStart = tb.world.now;
  const t0 = performance.now();
  tb.runUntil(() => host.api.spdk_wasm_bdevperf_status() !== 0 || tb.crashed() !== undefined, tb.world.now + 600e6);
  const wallMs = performance.now() - t0;
  const done = host.api.spdk_wasm_bdevperf_counter(COUNTER.completed);
  if (host.api.spdk_wasm_bdevperf_status() !== 1 || host.api.spdk_wasm_bdevperf_counter(COUNTER.failed) !== 0) {
    throw new Error(`bench: bdevperf ${workload} did not finish clean (status ${host.api.spdk_wasm_bdevperf_status()})`);
  }
  const simUs = tb.world.now - simStart;
  return {
    ios: done,
    wallMs: Math.round(wallMs * 100) / 100,
    simulatedIopsPerWallSecond: Math.round(done / (wallMs / 1000)),
    simulatedIops: Math.round(done / (simUs / 1e6)),
  };
}

/** The figures, each measured in a fresh Node process (bench/nvme-figure.ts), so none depends on
 *  what ran before it in the process (the JIT's type feedback, the heap of earlier testbeds). */
const FIGURES = [
  ['randread4k.qd1', 'randread', 4096, 1, 2000],
  ['randread4k.qd32', 'randread', 4096, 32, 20000],
  ['write128k.qd1', 'write', 131072, 1, 200],
  ['write128k.qd32', 'write', 131072, 32, 1000],
] as const;

/** One figure: full-size warm-up runs for at least WARMUP_MS of wall time let the JIT settle
 *  (the first runs are up to 40 % slower), then the median of five. */
export async function nvmeFigure(name: string): Promise<Record<string, unknown>> {
  const f = FIGURES.find((x) => x[0] === name);
  if (f === undefined) throw new Error(`bench: no NVMe figure named ${name}`);
  const [, workload, size, qd, count] = f;
  const warm = performance.now();
  do await one(workload, size, qd, count);
  while (performance.now() - warm < WARMUP_MS);
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 5; i++) runs.push(await one(workload, size, qd, count));
  runs.sort((a, b) => a['simulatedIopsPerWallSecond']! - b['simulatedIopsPerWallSecond']!);
  return { ...runs[2]!, runs: runs.map((r) => r['simulatedIopsPerWallSecond']!) };
}

export async function nvmeFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const script = fileURLToPath(new URL('./nvme-figure.js', import.meta.url));
  for (const [name] of FIGURES) {
    progress(`nvme: ${name} (own process)`);
    const r = spawnSync(process.execPath, [script, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench: ${script} ${name} exited with ${r.status ?? r.signal}`);
    out[name] = JSON.parse(r.stdout) as unknown;
  }
  progress('nvme: tcp-zcopy-disconnect --long-run (tcp_retries2, ~924 s virtual)');
  const runs: number[] = [];
  let simulatedUs = 0;
  for (let i = 0; i < 3; i++) {
    const r = await tcpZcopyDisconnect.run({
      variant: 'unpatched', flavor: 'release', seed: 1, load: loadVariant,
      params: resolveParams(tcpZcopyDisconnect, { 'long-run': true }),
    });
    runs.push(r.wallMs);
    simulatedUs = r.simulatedUs;
  }
  out['retries2LongRun'] = { simulatedUs, wallMs: Math.round(Math.min(...runs) * 100) / 100 };
  return out;
}
