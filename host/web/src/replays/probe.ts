/** Worker-side half of a replay's page: which trace events its views draw, and detail they ask for. */
import type { Session } from '../../../scenarios/contract.js';
import type { TraceEvent } from '../../../sim/trace.js';
import type { World } from '../../../sim/world.js';

export interface ReplayProbe {
  /** True for the events the views draw; the rest are only counted (poll loops would flood the page). */
  keep(e: TraceEvent): boolean;
  /** Called once per world as soon as it exists (before set-up records anything), to watch the trace. */
  attach(world: World): void;
  /** Answers a view's query about the current world (plain JSON). */
  inspect(session: Session, query: Record<string, number>): unknown;
  /** What the probe observed since the last step beyond the trace (plain JSON), sent with the step. */
  collect?(session: Session): unknown;
}

/** For a replay without its own probe: everything is drawn, nothing to inspect. */
export const genericProbe = (): ReplayProbe => ({
  keep: () => true,
  attach: () => {},
  inspect: () => null,
});
