/** Page-side half of a replay's page: views drawn from the worker's step batches. */
import type { ParamValue, RunResult } from '../../../scenarios/contract.js';
import type { StepBatch } from '../protocol.js';
import type { EvidenceLink } from '../views/verdict.js';

export interface ViewContext {
  params: Record<string, ParamValue>;
  /** Asks the worker's probe for detail about the current world. */
  inspect(query: Record<string, number>): Promise<unknown>;
}

export interface ReplayView {
  /** Every batch of the world, in order. */
  update(batch: StepBatch): void;
  /** Where this view shows the finished run's evidence (the frame or row the verdict names). */
  evidence?(result: RunResult): EvidenceLink | undefined;
}

export type ReplayViewFactory = (root: HTMLElement, ctx: ViewContext) => ReplayView;
