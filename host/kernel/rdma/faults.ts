/** Injected verbs failures: the next call(s) of one operation fail with an errno, optionally after
 *  running a hook inside the call (so a scenario can re-enter the guest from within the import,
 *  the order the #3662 window needs: removal handled while poller creation is half done). */

export type VerbsOp =
  | 'ibv_open_device' | 'ibv_alloc_pd' | 'ibv_reg_mr' | 'ibv_create_cq' | 'ibv_create_srq'
  | 'ibv_create_qp' | 'ibv_create_comp_channel';

export interface FaultSpec {
  /** Positive errno the call returns negated. */
  errno: number;
  /** Calls to let through before the first failure (default 0). */
  skip?: number;
  /** Failing calls (default 1; Infinity for all). */
  count?: number;
  /** Runs inside the failing call, before it returns. */
  before?: () => void;
}

interface Armed extends Required<Omit<FaultSpec, 'before'>> {
  before: (() => void) | undefined;
}

export class VerbsFaults {
  private readonly armed = new Map<VerbsOp, Armed[]>();
  /** Failures delivered so far, per operation. */
  readonly fired = new Map<VerbsOp, number>();

  inject(op: VerbsOp, spec: FaultSpec): void {
    if (!(spec.errno > 0)) throw new RangeError(`inject ${op}: errno ${spec.errno} must be a positive errno`);
    const skip = spec.skip ?? 0;
    const count = spec.count ?? 1;
    if (!(skip >= 0) || !(count >= 1)) throw new RangeError(`inject ${op}: skip ${skip} must be >= 0 and count ${count} >= 1`);
    const list = this.armed.get(op) ?? [];
    list.push({ errno: spec.errno, skip, count, before: spec.before });
    this.armed.set(op, list);
  }

  clear(op?: VerbsOp): void {
    if (op === undefined) this.armed.clear();
    else this.armed.delete(op);
  }

  /** Called at the start of `op`: 0 to proceed, or the negative errno to return. */
  check(op: VerbsOp): number {
    const list = this.armed.get(op);
    const f = list?.[0];
    if (f === undefined) return 0;
    if (f.skip > 0) {
      f.skip--;
      return 0;
    }
    if (--f.count <= 0) list!.shift();
    this.fired.set(op, (this.fired.get(op) ?? 0) + 1);
    f.before?.();
    return -f.errno;
  }
}
