/**
 * The scenario contract (docs/architecture.md): one module per replay, with its parameters, the
 * bug write-up it replays (docs/bugs/), and a run that returns a verdict observed from bytes and
 * states. The CLI, the tests, the browser demos and the labs all run scenarios through it.
 */
import type { Flavor, LoadedVariant, Variant } from '../spdk/variant.js';
import type { World } from '../sim/world.js';
import type { Fabric } from '../net/fabric.js';

export type Oracle = 'safety' | 'liveness' | 'crash';

/**
 * What a run showed. `reproduced`: the bug's evidence was observed (wrong bytes, requests stuck
 * past the point a healthy system frees them, a crash). `clean`: the run reached the point where
 * the evidence would show and it was absent. `inconclusive`: the run ended first (a deadline, a
 * failure that is not the bug's) — reaching a deadline is never evidence by itself.
 */
export type Verdict = 'reproduced' | 'clean' | 'inconclusive';

export type ParamValue = number | boolean | string;

export interface ParamSpec {
  name: string;
  kind: 'int' | 'bool' | 'enum';
  default: ParamValue;
  help: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** `sweep --shrink` may lower this int toward `min`: a smaller value is a simpler run (fewer
   *  I/Os, lower queue depth, fewer faults, a shorter run). */
  shrink?: boolean;
}

export interface RunOptions {
  variant: Variant;
  flavor: Flavor;
  seed: number;
  params: Record<string, ParamValue>;
  /** Loads a compiled variant (Node: from build/wasm; browser: by fetch). */
  load: (variant: Variant, flavor: Flavor) => Promise<LoadedVariant>;
  /** Keep up to this many trace events in the result's world (0 = hash only). */
  keepTrace?: number;
  /** Called once the world exists, e.g. to stream its trace. */
  onWorld?: (world: World) => void;
  /** Called once the network fabric exists, before any frame is sent (e.g. to record a pcap). */
  onFabric?: (fabric: Fabric) => void;
}

export interface RunResult {
  scenario: string;
  variant: Variant;
  flavor: Flavor;
  seed: number;
  params: Record<string, ParamValue>;
  verdict: Verdict;
  /** verdict === 'reproduced', kept for readers of the JSON lines. */
  reproduced: boolean;
  /** The oracle that judged the run. */
  oracle: Oracle;
  /** One line a person reads first. */
  summary: string;
  /** What was observed: bytes, ranges, states. Plain JSON. */
  evidence: Record<string, unknown>;
  /** Counters showing which paths actually fired (VOPR hygiene). */
  counters: Record<string, number>;
  simulatedUs: number;
  wallMs: number;
  traceHash: string;
  traceEvents: number;
  build: string;
  /** The exact command that replays this run. */
  replay: string;
}

/** A run in progress: the demos step it, the CLI and tests run it to the end. */
export interface Session {
  readonly world: World;
  /** Runs until the replay is finished or virtual time reaches `untilUs`; true once finished. */
  advance(untilUs: number): boolean;
  /** The verdict; meaningful once `advance` returned true (an interim one before that). */
  result(): RunResult;
  /** Scenario state for views (buffers, requests, counters), plain JSON. */
  snapshot(): Record<string, unknown>;
}

/** What a replay is, without the code that runs it (`<id>.info.ts`): enough for a page's controls,
 *  URL parsing and the index, so a browser's main thread never loads the run code. */
export interface ScenarioInfo {
  id: string;
  title: string;
  /** The project's write-up of the bug, `docs/bugs/<id>.md`: what it is, where it was reported
   *  upstream, how the replay shows it, its controls. */
  bugDoc: string;
  /** Upstream fix selected by the `patched` variant. */
  fix: string;
  /** The oracle that detects this bug. */
  oracle: Oracle;
  params: readonly ParamSpec[];
  /** Cross-parameter checks beyond each ParamSpec's range; returns a one-line error or undefined. */
  validate?(params: Record<string, ParamValue>): string | undefined;
}

export interface Scenario extends ScenarioInfo {
  /** Sets the world up and returns a session at virtual time 0. */
  start(opts: RunOptions): Promise<Session>;
  /** start() then advance() to the end. */
  run(opts: RunOptions): Promise<RunResult>;
}

/** The usual `run`: start a session and advance it until it finishes. */
export async function runToEnd(scenario: Scenario, opts: RunOptions): Promise<RunResult> {
  const session = await scenario.start(opts);
  session.advance(Infinity);
  return session.result();
}
