/**
 * A machine (decision 4): one WebAssembly instance of a compiled variant, with its own linear memory,
 * plus its HostKernel. The world steps it through `pollOnce` (decision 5). A trap, abort or ASan
 * report inside the instance becomes a CrashReport; `reboot()` discards the instance and starts a
 * fresh one.
 */
import type { HostKernel } from '../kernel/host-kernel.js';
import type { Steppable, World } from '../sim/world.js';
import { eventKey, type TraceHash, type TraceSource } from '../sim/trace.js';
import { crashReport, MachineCrashed, type CrashReport } from './crash.js';
import { GuestView } from './guest-memory.js';
import { createHostImports } from './imports.js';
import type { EmscriptenModule, LoadedVariant } from './variant.js';
import { SPDK_API, type SpdkApi } from '../gen/spdk-api.js';

export interface MachineOptions {
  world: World;
  name: string;
  variant: LoadedVariant;
  /** Builds the machine's kernel; called again on reboot (a reboot starts with a fresh kernel). */
  kernel: (mem: GuestView) => HostKernel;
  /** Receives C-side log lines (SPDK_ERRLOG & co.). Default: kept in `logLines`. */
  onLog?: (level: number, msg: string) => void;
}

type Fn = (...args: number[]) => number;

/** struct spdk_wasm_trace_state (wasm/include/spdk_internal/trace_host.h): u64 hash, u32 count,
 *  u32 to_host. */
const TRACE_HASH = 0;
const TRACE_COUNT = 8;
const TRACE_TO_HOST = 12;
/** struct spdk_wasm_clock (wasm/port/host.h): f64 now_us, f64 next_deadline_us, u32 pending_msgs. */
const CLOCK_NOW = 0;
const CLOCK_NEXT_DEADLINE = 8;
const CLOCK_PENDING_MSGS = 16;

export class SpdkMachine implements Steppable {
  readonly name: string;
  readonly world: World;
  readonly variant: LoadedVariant;
  kernel!: HostKernel;
  readonly mem: GuestView;
  crash: CrashReport | undefined;
  readonly logLines: string[] = [];
  private mod: EmscriptenModule | undefined;
  private stderr: string[] = [];
  private reportStack: string | undefined;
  /** Export lookups, cached per instance (a reboot clears them). */
  private readonly exports = new Map<string, Fn>();
  private pollFn: Fn | undefined;
  private readonly pollResult = { busy: false, nextDeadline: Infinity };
  /** The instance's memory, for cheap growth checks in `mem`. */
  private memory: WebAssembly.Memory | undefined;
  /** C trace events are forwarded here in addition to the world trace (tests use it). */
  onTrace: ((ev: string, a: number, b: number, c: number, d: number) => void) | undefined;
  private peakMemory = 0;
  /** The C trace state (struct spdk_wasm_trace_state in trace_host.h) of the current instance. */
  private traceState = 0;
  /** Whether the C side currently hands each trace point to the host. */
  private traceToHost = false;
  /** C trace points counted by earlier instances (before reboots), and by this one when the
   *  world's hash last absorbed it. */
  private traceCountBefore = 0;
  private traceAbsorbed = 0;
  private readonly traceKey: number;
  /** struct spdk_wasm_clock of the current instance, and the time last written there. */
  private clockAt = 0;
  private clockWritten = -1;
  /** The last poll was idle with no messages waiting (see pollOnce), and World.epoch then. */
  private settled = false;
  private seenEpoch = -1;
  private readonly traceSource: TraceSource = {
    counted: () => this.traceCountBefore + this.cTraceCount(),
    fold: (h: TraceHash) => this.foldTrace(h),
  };
  /** Typed calls of every C export (generated from wasm/api and wasm/app by tools/gen-api.mjs). */
  readonly api: SpdkApi = this.bindApi();

  private constructor(private readonly opts: MachineOptions) {
    this.name = opts.name;
    this.world = opts.world;
    this.variant = opts.variant;
    this.traceKey = eventKey(opts.name, 'c.trace');
    opts.world.trace.addSource(this.traceSource);
    this.mem = new GuestView(() => {
      if (this.memory === undefined) throw new Error(`machine ${this.name}: memory used before instantiation`);
      return this.memory.buffer;
    });
  }

  static async create(opts: MachineOptions): Promise<SpdkMachine> {
    const m = new SpdkMachine(opts);
    await m.boot();
    return m;
  }

  /** Discards the instance (and its kernel) and starts a fresh one. */
  async reboot(): Promise<void> {
    if (this.traceState !== 0) {
      this.world.trace.absorb(this.world.now, this.traceSource);
      this.traceCountBefore += this.cTraceCount();
      this.traceState = 0;
    }
    this.mod = undefined;
    this.memory = undefined;
    this.exports.clear();
    this.pollFn = undefined;
    this.crash = undefined;
    this.stderr = [];
    this.reportStack = undefined;
    await this.boot();
  }

  private async boot(): Promise<void> {
    const { world, name, variant } = this.opts;
    this.kernel = this.opts.kernel(this.mem);
    const hostImports = createHostImports({
      kernel: this.kernel,
      mem: this.mem,
      log: (level, msg) => {
        this.logLines.push(msg.trimEnd());
        this.opts.onLog?.(level, msg);
        world.record(name, 'log', { level, msg: msg.trimEnd().slice(0, 160) });
      },
      trace: (ev, a, b, c, d) => {
        if (world.trace.wantsEvents) world.trace.deliver({ t: world.now, m: name, ev, f: { a, b, c, d } });
        this.onTrace?.(ev, a, b, c, d);
      },
    });
    this.mod = await variant.factory({
      instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
        imports['host'] = hostImports;
        WebAssembly.instantiate(variant.module, imports).then((inst) => {
          this.memory = findMemory(inst);
          this.mem.invalidate();
          done(inst, variant.module);
        });
        return {};
      },
      wasmOffsetData: variant.offsetData,
      print: (s: string) => this.logLines.push(s),
      printErr: (s: string) => {
        // The sanitizer prints from inside the faulting call: the JS stack here still holds the
        // C frames, which the exit that follows the report no longer carries.
        if (s.includes('ERROR: AddressSanitizer')) this.reportStack = new Error().stack;
        this.stderr.push(s);
      },
    });
    this.clockAt = this.export('spdk_wasm_clock')() >>> 0;
    this.clockWritten = -1;
    this.settled = false;
    this.traceState = this.export('spdk_wasm_trace_state')() >>> 0;
    this.traceToHost = false;
    this.traceAbsorbed = 0;
    this.call('spdk_wasm_init');
  }

  /** C trace points of the current instance. */
  private cTraceCount(): number {
    return this.traceState === 0 ? 0 : this.mem.u32(this.traceState + TRACE_COUNT);
  }

  private foldTrace(h: TraceHash): void {
    h.word(this.traceKey);
    if (this.traceState === 0) return;
    h.word(this.mem.u32(this.traceState + TRACE_HASH));
    h.word(this.mem.u32(this.traceState + TRACE_HASH + 4));
  }

  /** Before any call into the module: the clock, and whether to hand trace points over (someone
   *  subscribed or set onTrace). */
  private enter(): void {
    const now = this.world.now;
    if (now !== this.clockWritten && this.clockAt !== 0) {
      this.mem.view().setFloat64(this.clockAt + CLOCK_NOW, now, true);
      this.clockWritten = now;
    }
    const want = this.onTrace !== undefined || this.world.trace.wantsEvents;
    if (want === this.traceToHost || this.traceState === 0) return;
    this.mem.setU32(this.traceState + TRACE_TO_HOST, want ? 1 : 0);
    this.traceToHost = want;
  }

  private export(fn: string): Fn {
    let f = this.exports.get(fn);
    if (f === undefined) {
      f = this.mod?.[`_${fn}`] as Fn | undefined;
      if (f === undefined) throw new Error(`machine ${this.name}: no C export named ${fn}`);
      this.exports.set(fn, f);
    }
    return f;
  }

  /** Calls a C export; a trap or abort marks the machine crashed and throws MachineCrashed. */
  call(fn: string, ...args: number[]): number {
    if (this.crash !== undefined) throw new MachineCrashed(this.name, this.crash);
    const f = this.export(fn);
    this.settled = false; // the call may leave work for the pollers
    this.enter();
    if (this.variant.flavor === 'asan') return this.callAsan(f, args);
    try {
      return f(...args);
    } catch (err) {
      throw this.crashed(err);
    }
  }

  /** ASan's report runs deep inside the sanitizer: keep enough frames to reach the C code. */
  private callAsan(f: Fn, args: number[]): number {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 64;
    try {
      return f(...args);
    } catch (err) {
      throw this.crashed(err);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private crashed(err: unknown): MachineCrashed {
    this.crash = crashReport(err, this.stderr, this.reportStack);
    this.world.record(this.name, 'crash', { kind: this.crash.kind, msg: this.crash.message.slice(0, 160) });
    return new MachineCrashed(this.name, this.crash);
  }

  private bindApi(): SpdkApi {
    const api: Record<string, (...args: (number | string)[]) => unknown> = {};
    for (const [name, sig] of Object.entries(SPDK_API)) {
      const hasString = sig.args.some((k) => k === 'str');
      api[name] = (...args) => {
        const raw = hasString ? this.callStr(name, ...args) : this.call(name, ...(args as number[]));
        switch (sig.ret as string) {
          case 'u32':
          case 'ptr':
          case 'addr':
            return raw >>> 0;
          case 'i32':
            return raw | 0;
          case 'bool':
            return raw !== 0;
          case 'void':
            return undefined;
          default:
            return raw;
        }
      };
    }
    return api as unknown as SpdkApi;
  }

  /** True when the variant exports `fn` (lets callers probe optional API). */
  has(fn: string): boolean {
    return this.mod?.[`_${fn}`] !== undefined;
  }

  pollOnce(): { busy: boolean; nextDeadline: number } {
    // The world polls every machine every round. A machine whose last poll did nothing (idle, no
    // messages waiting) is not polled again until something it can see changed: an event touched
    // its kernel, an event touched anything (World.epoch), a call into it, or a timed poller is
    // due. Polling it would run the same pollers on the same inputs and find nothing again.
    const r = this.pollResult;
    const kernel = this.kernel;
    const world = this.world;
    if (this.settled && kernel.touched === false && this.seenEpoch === world.epoch && world.now < r.nextDeadline) {
      return r;
    }
    r.busy = false;
    r.nextDeadline = Infinity;
    this.settled = false;
    if (this.crash !== undefined) return r;
    this.seenEpoch = world.epoch;
    if (kernel.touched !== undefined) kernel.touched = false;
    // Call the export directly (no lookup, no argument array), read what it left in the shared
    // clock, and hand back one reused result object, idle unless the call succeeds.
    this.pollFn ??= this.export('spdk_wasm_poll_once');
    this.enter();
    try {
      const busy = (this.variant.flavor === 'asan' ? this.callAsan(this.pollFn, []) : this.pollFn()) !== 0;
      const view = this.mem.view();
      const next = view.getFloat64(this.clockAt + CLOCK_NEXT_DEADLINE, true);
      r.busy = busy;
      r.nextDeadline = next < 0 ? Infinity : next;
      this.settled = !busy && view.getUint32(this.clockAt + CLOCK_PENDING_MSGS, true) === 0;
    } catch (err) {
      if (!(err instanceof MachineCrashed)) this.crashed(err);
      return r;
    }
    const size = this.mem.bytes().length;
    if (size > this.peakMemory) this.peakMemory = size;
    const traced = this.cTraceCount();
    if (traced !== this.traceAbsorbed) {
      this.traceAbsorbed = traced;
      this.world.trace.absorb(this.world.now, this.traceSource);
    }
    return r;
  }

  /** Peak size of linear memory seen by pollOnce, in bytes. */
  get peakMemoryBytes(): number {
    return Math.max(this.peakMemory, this.memory?.buffer.byteLength ?? 0);
  }

  /** Copies a NUL-terminated string into guest memory (freed with `free`). */
  cstr(s: string): number {
    const bytes = new TextEncoder().encode(s);
    const p = this.call('malloc', bytes.length + 1);
    const u8 = this.mem.bytes();
    u8.set(bytes, p);
    u8[p + bytes.length] = 0;
    return p;
  }

  free(p: number): void {
    this.call('free', p);
  }

  /** Copies strings into guest memory as a C array of `char *` (wasm32: 4-byte addresses);
   *  `free` releases the array and every string. */
  cstrArray(strs: readonly string[]): { ptr: number; free(): void } {
    const owned = strs.map((s) => this.cstr(s));
    const ptr = this.call('malloc', Math.max(1, owned.length) * 4);
    owned.forEach((p, i) => this.mem.setU32(ptr + 4 * i, p));
    return {
      ptr,
      free: () => {
        if (this.crash !== undefined) return;
        for (const p of owned) this.free(p);
        this.free(ptr);
      },
    };
  }

  /** Calls `fn` with string arguments converted to guest C strings for the call's duration. */
  callStr(fn: string, ...args: (number | string)[]): number {
    const owned: number[] = [];
    try {
      const raw = args.map((a) => {
        if (typeof a === 'number') return a;
        const p = this.cstr(a);
        owned.push(p);
        return p;
      });
      return this.call(fn, ...raw);
    } finally {
      if (this.crash === undefined) for (const p of owned) this.free(p);
    }
  }
}

/** The instance's linear memory (emscripten exports it as "memory"). */
function findMemory(inst: WebAssembly.Instance): WebAssembly.Memory {
  for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) return v;
  throw new Error('spdk-wasm: the module exports no memory');
}
