/** What the page and the world's Web Worker exchange (through comlink). Plain JSON only. */
import type { ParamValue, RunResult, Verdict } from '../../scenarios/contract.js';
import type { TraceEvent } from '../../sim/trace.js';
import type { Flavor, Variant } from '../../spdk/variant.js';

export interface WorldConfig {
  scenario: string;
  variant: Variant;
  flavor: Flavor;
  seed: number;
  params: Record<string, ParamValue>;
  /** Absolute URL of the folder holding `<variant>-<flavor>/spdk.{wasm,mjs}`, ending in "/". */
  wasmBase: string;
}

export interface WorldInfo {
  build: string;
  wasmBytes: number;
  /** The world's machines by name (what the crash control offers). */
  machines: string[];
  /** Wall time to fetch/compile the variant and set the world up. */
  startMs: number;
  /** Wall clock (ms since the epoch) when the worker's code began to run, when start began and ended. */
  at: { workerLoaded: number; startBegan: number; startEnded: number };
}

/** How far one step goes: to a virtual time, to the next drawn event, or to the end. */
export type StepRequest =
  | { kind: 'time'; sliceUs: number }
  | { kind: 'event' }
  | { kind: 'end' };

/** Everything that happened during one step, in one message (never one message per event). */
export interface StepBatch {
  now: number;
  finished: boolean;
  /** Trace events the replay's views draw, in order. */
  events: TraceEvent[];
  /** Events recorded during the step but not sent (poll loops and the like). */
  skipped: number;
  /** Events recorded since the world started. */
  totalEvents: number;
  snapshot: Record<string, unknown>;
  /** The replay probe's own observations (replays/probes.ts), if it has any. */
  probe?: unknown;
  /** The verdict, once finished. */
  result?: RunResult;
  /** Wall time the worker spent in this step. */
  wallMs: number;
}

/** What a deliberate crash did: `crashed` false when nothing detected it (a use after free on the
 *  release flavor, which has no AddressSanitizer). */
export interface CrashOutcome {
  crashed: boolean;
  /** Virtual time of the injection. */
  at: number;
}

/** A run to the end without drawing, for the bench. */
export interface Measurement {
  steps: number;
  sliceUs: number;
  wallMs: number;
  simulatedUs: number;
  events: number;
  verdict: Verdict;
}

export interface DemoWorker {
  /** Discards any current world and sets up a new one at virtual time 0. */
  start(cfg: WorldConfig): Promise<WorldInfo>;
  step(req: StepRequest): Promise<StepBatch>;
  /** Replay-specific detail for a view (e.g. bytes around an offset); see replays/probes.ts. */
  inspect(query: Record<string, number>): Promise<unknown>;
  /** Crashes a machine on purpose (spdk_wasm_ut_crash: 0 abort, 1 use-after-free, 2 trap). */
  injectCrash(machine: string, kind: number): Promise<CrashOutcome>;
  measure(cfg: WorldConfig, sliceUs: number): Promise<Measurement>;
}
