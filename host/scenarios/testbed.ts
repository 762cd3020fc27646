/**
 * Shared set-up of a replay: a world, a fabric, and machines of one variant, each with its emulated
 * kernel and one NIC; all machines hang off one switch-like set of point-to-point links. Also turns
 * a run's outcome into a RunResult (timing, trace hash, build id, the replay command).
 */
import { Kernel } from '../kernel/kernel.js';
import { Fabric } from '../net/fabric.js';
import type { Link } from '../net/link.js';
import type { NetDev } from '../net/netdev.js';
import { World, type RunOutcome } from '../sim/world.js';
import type { CrashReport } from '../spdk/crash.js';
import { SpdkMachine } from '../spdk/machine.js';
import type { Oracle, RunOptions, RunResult, Scenario, Verdict } from './contract.js';
import { paramFlags } from './params.js';

export interface TestbedConfig {
  machines: { name: string; ip: string }[];
  mss: number;
  latencyUs: number;
  jitterUs: number;
  lossPpm: number;
  /** Segmentation offload: TCP hands the NIC frames of up to this many bytes (0 = off). */
  tsoBytes: number;
}

export interface Testbed {
  world: World;
  fabric: Fabric;
  machines: Map<string, SpdkMachine>;
  nics: Map<string, NetDev>;
  links: Link[];
  machine(name: string): SpdkMachine & { kernel: Kernel };
  crashed(): { machine: string; report: CrashReport } | undefined;
  runUntil(done: () => boolean, untilUs: number): RunOutcome;
  kernelCounters(name: string): Record<string, number>;
  started: number;
  opts: RunOptions;
}

/** Standard Ethernet's MTU; an MSS above ETH_MTU - 40 needs jumbo frames. */
const ETH_MTU = 1500;

/** The NICs' MTU for a replay's MSS: 1500, or for a larger MSS jumbo frames of MSS + 40 (IPv4
 *  and TCP headers), as `ip link set dev eth0 mtu N` on both ends of the testbed link. */
export function linkMtu(mss: number): number {
  return Math.max(ETH_MTU, mss + 40);
}

export async function buildTestbed(opts: RunOptions, cfg: TestbedConfig): Promise<Testbed> {
  const started = performance.now();
  const world = new World(opts.seed, { keepTrace: opts.keepTrace ?? 0 });
  opts.onWorld?.(world);
  const fabric = new Fabric(world);
  opts.onFabric?.(fabric);
  const variant = await opts.load(opts.variant, opts.flavor);
  const machines = new Map<string, SpdkMachine>();
  const nics = new Map<string, NetDev>();
  for (const spec of cfg.machines) {
    const m = await SpdkMachine.create({
      world,
      name: spec.name,
      variant,
      kernel: (mem) => {
        const k = new Kernel(world, spec.name, mem, fabric);
        nics.set(spec.name, k.addNetDev({ name: 'eth0', addr: spec.ip, mtu: linkMtu(cfg.mss), mss: cfg.mss, tsoBytes: cfg.tsoBytes }));
        return k;
      },
    });
    machines.set(spec.name, m);
    world.add(m);
  }
  const crashWatch = [...machines.values()];
  const links: Link[] = [];
  const devs = [...nics.values()];
  for (let i = 0; i < devs.length; i++) {
    for (let j = i + 1; j < devs.length; j++) {
      links.push(fabric.connect(devs[i]!, devs[j]!, { latencyUs: cfg.latencyUs, jitterUs: cfg.jitterUs, loss: cfg.lossPpm / 1e6 }));
    }
  }
  return {
    world,
    fabric,
    machines,
    nics,
    links,
    started,
    opts,
    machine(name) {
      const m = machines.get(name);
      if (m === undefined) throw new Error(`no machine named ${name}`);
      return m as SpdkMachine & { kernel: Kernel };
    },
    crashed() {
      // Scenarios call this after every world round: a plain loop, no iterator.
      for (let i = 0; i < crashWatch.length; i++) {
        const m = crashWatch[i]!;
        if (m.crash !== undefined) return { machine: m.name, report: m.crash };
      }
      return undefined;
    },
    runUntil(done, untilUs) {
      return world.run(done, untilUs);
    },
    kernelCounters(name) {
      const k = machines.get(name)?.kernel as Kernel | undefined;
      return k !== undefined ? k.counters() : {};
    },
  };
}

export interface Judgement {
  verdict: Verdict;
  oracle: Oracle;
  summary: string;
  evidence: Record<string, unknown>;
  counters: Record<string, number>;
}

/** Builds the RunResult; a crash of any machine overrides the scenario's own judgement. */
export function finishRun(tb: Testbed, scenario: Scenario, judge: (crash: Judgement | undefined) => Judgement): RunResult {
  const c = tb.crashed();
  const crash: Judgement | undefined = c === undefined ? undefined : {
    verdict: 'reproduced',
    oracle: 'crash',
    summary: `${c.machine} crashed (${c.report.kind}): ${c.report.message}`,
    evidence: { machine: c.machine, ...c.report, lines: [`${c.report.kind}: ${c.report.message}`, `C stack: ${c.report.cStack.slice(0, 8).join(' <- ')}`] },
    counters: {},
  };
  const j = judge(crash);
  const counters: Record<string, number> = { ...j.counters };
  for (const [name, m] of tb.machines) counters[`memPeak.${name}`] = m.peakMemoryBytes;
  const o = tb.opts;
  return {
    scenario: scenario.id,
    variant: o.variant,
    flavor: o.flavor,
    seed: o.seed,
    params: o.params,
    verdict: j.verdict,
    reproduced: j.verdict === 'reproduced',
    oracle: j.oracle,
    summary: j.summary,
    evidence: j.evidence,
    counters,
    simulatedUs: tb.world.now,
    wallMs: performance.now() - tb.started,
    traceHash: tb.world.trace.digest(),
    traceEvents: tb.world.trace.count,
    build: [...tb.machines.values()][0]?.variant.buildId ?? 'unknown',
    replay: `npx spdk-wasm run ${scenario.id} --variant ${o.variant}${o.flavor === 'asan' ? ' --flavor asan' : ''} --seed ${o.seed}${paramFlags(scenario, o.params)}`,
  };
}
