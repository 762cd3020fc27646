/**
 * The world's Web Worker (decision 9): runs one scenario session at a time behind comlink. Each step
 * returns one batch — the drawn trace events, a snapshot, and the verdict once finished — so the page
 * is never called back per event. A machine crash ends the run with the scenario's crash verdict;
 * any other error rejects the call, and `start` always begins a fresh world.
 */
import * as Comlink from 'comlink';
import type { Session } from '../scenarios/contract.js';
import { findScenario } from '../scenarios/index.js';
import type { TraceEvent } from '../sim/trace.js';
import { browserLoader } from '../spdk/browser-loader.js';
import { MachineCrashed } from '../spdk/crash.js';
import type { SpdkMachine } from '../spdk/machine.js';
import type { DemoWorker, Measurement, StepBatch, StepRequest, WorldConfig, WorldInfo } from './src/protocol.js';
import type { ReplayProbe } from './src/replays/probe.js';
import { probeFor } from './src/replays/probes.js';

/** The step "to the next drawn event" widens its time window from 1 µs by doubling, up to this. */
const EVENT_STEP_MAX_US = 10e6;

/** Events gathered since the last step. */
interface Pending {
  events: TraceEvent[];
  skipped: number;
}

interface Current {
  session: Session;
  probe: ReplayProbe;
  pending: Pending;
  finished: boolean;
}

/** Wall clock in ms since the epoch, comparable with the page's. */
const wallClock = (): number => performance.timeOrigin + performance.now();
const workerLoaded = wallClock();
const loaders = new Map<string, ReturnType<typeof browserLoader>>();
let current: Current | undefined;

function loaderFor(base: string): ReturnType<typeof browserLoader> {
  let l = loaders.get(base);
  if (l === undefined) loaders.set(base, (l = browserLoader(base)));
  return l;
}

/** Sets a world up; the probe and `watch` see every trace event from the first (set-up records some). */
async function startSession(cfg: WorldConfig, probe: ReplayProbe, watch?: (e: TraceEvent) => void): Promise<{ session: Session; build: string; wasmBytes: number }> {
  const scenario = findScenario(cfg.scenario);
  const load = loaderFor(cfg.wasmBase);
  const variant = await load(cfg.variant, cfg.flavor);
  const session = await scenario.start({
    variant: cfg.variant, flavor: cfg.flavor, seed: cfg.seed, params: cfg.params, load,
    onWorld: (world) => {
      probe.attach(world);
      if (watch !== undefined) world.trace.subscribe(watch);
    },
  });
  return { session, build: variant.buildId, wasmBytes: variant.wasmBytes };
}

/** The latest start, and how many there were: calls about the world wait for it (so a page may
 *  send its first step right behind a start), and only the latest start's world is kept. */
let starting: Promise<unknown> = Promise.resolve();
let starts = 0;

async function need(): Promise<Current> {
  const asked = starts;
  await starting.catch(() => {});
  // A call sent for a world that a later start replaced meanwhile must not touch the new one.
  if (asked !== starts) throw new Error('the world was replaced');
  if (current === undefined) throw new Error('no world: start one first');
  return current;
}

/** A machine that crashed ends the run: the scenario's result carries the crash verdict. Scenarios
 *  that call into a machine while stepping meet the crash as an exception, not as tb.crashed(). */
function advance(c: Current, req: StepRequest): void {
  try {
    advanceOnce(c, req);
  } catch (err) {
    if (!(err instanceof MachineCrashed)) throw err;
    c.finished = true;
  }
}

/** The scenario's snapshot, or `{crashed}` when reading it meets a crashed machine. */
function snapshotOf(c: Current): Record<string, unknown> {
  try {
    return c.session.snapshot();
  } catch (err) {
    if (err instanceof MachineCrashed) return { crashed: true, machine: err.machine };
    throw err;
  }
}

function advanceOnce(c: Current, req: StepRequest): void {
  const world = c.session.world;
  if (req.kind === 'end') c.finished = c.session.advance(Infinity);
  else if (req.kind === 'time') c.finished = c.session.advance(world.now + Math.max(1, req.sliceUs));
  else {
    // Events already waiting (a crash injected between steps) do not count: something new must happen.
    const before = c.pending.events.length;
    for (let span = 1; !c.finished && c.pending.events.length === before && span <= EVENT_STEP_MAX_US; span *= 2) {
      c.finished = c.session.advance(world.now + span);
    }
  }
}

const api: DemoWorker = {
  start(cfg: WorldConfig): Promise<WorldInfo> {
    current = undefined;
    const mine = ++starts;
    const t0 = performance.now();
    const startBegan = wallClock();
    const probe = probeFor(cfg.scenario);
    const pending: Pending = { events: [], skipped: 0 };
    const started = startSession(cfg, probe, (e) => {
      if (probe.keep(e)) pending.events.push(e);
      else pending.skipped++;
    }).then(({ session, build, wasmBytes }): WorldInfo => {
      if (mine === starts) current = { session, probe, pending, finished: false };
      const machines = session.world.names().filter((n) => typeof (session.world.find(n) as Partial<SpdkMachine>).call === 'function');
      return { build, wasmBytes, machines, startMs: performance.now() - t0, at: { workerLoaded, startBegan, startEnded: wallClock() } };
    });
    starting = started;
    return started;
  },

  async step(req: StepRequest): Promise<StepBatch> {
    const c = await need();
    const t0 = performance.now();
    if (!c.finished) advance(c, req);
    const batch: StepBatch = {
      now: c.session.world.now,
      finished: c.finished,
      events: c.pending.events.splice(0),
      skipped: c.pending.skipped,
      totalEvents: c.session.world.trace.count,
      snapshot: snapshotOf(c),
      probe: c.probe.collect?.(c.session),
      result: c.finished ? c.session.result() : undefined,
      wallMs: 0,
    };
    c.pending.skipped = 0;
    batch.wallMs = performance.now() - t0;
    return batch;
  },

  async inspect(query) {
    const c = await need();
    return c.probe.inspect(c.session, query);
  },

  async injectCrash(machine, kind) {
    const c = await need();
    const m = c.session.world.find(machine) as SpdkMachine | undefined;
    if (m === undefined || typeof m.call !== 'function') throw new Error(`no machine named ${machine}`);
    try {
      m.call('spdk_wasm_ut_crash', kind);
    } catch (err) {
      // The scenario sees the crash and finishes with the crash verdict.
      if (!(err instanceof MachineCrashed)) throw err;
    }
    // A use after free on release reads freed memory and goes on: nothing detects it.
    return { crashed: m.crash !== undefined, at: c.session.world.now };
  },

  async measure(cfg, sliceUs): Promise<Measurement> {
    const { session } = await startSession(cfg, probeFor(cfg.scenario));
    const t0 = performance.now();
    let steps = 0;
    for (let done = false; !done; steps++) done = session.advance(session.world.now + sliceUs);
    const wallMs = performance.now() - t0;
    const r = session.result();
    return { steps, sliceUs, wallMs, simulatedUs: r.simulatedUs, events: r.traceEvents, verdict: r.verdict };
  },
};

Comlink.expose(api);
