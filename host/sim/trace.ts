/** Structured trace of a run and its hash. Events name SPDK functions and states as upstream does
 *  (e.g. "_sock_flush", "spdk_sock_request_complete") or kernel/wire facts ("tcp.tx", "zc.notify"). */
export interface TraceEvent {
  /** Virtual time in µs. */
  t: number;
  /** Machine name, or "wire"/"world". */
  m: string;
  /** Event name. */
  ev: string;
  /** Event fields (numbers and short strings only). */
  f?: Record<string, number | string | boolean>;
}

export type TraceSink = (e: TraceEvent) => void;

/** Names recur millions of times per run; their hashes are computed once per process. */
const NAME_HASHES = new Map<string, number>();
/** Bounds the cache (short string field values can be many). */
const MAX_NAME_HASHES = 1 << 16;

function nameHash(s: string): number {
  let w = NAME_HASHES.get(s);
  if (w === undefined) {
    w = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) w = Math.imul(w ^ s.charCodeAt(i), 0x01000193);
    if (NAME_HASHES.size >= MAX_NAME_HASHES) NAME_HASHES.clear();
    NAME_HASHES.set(s, w);
  }
  return w;
}

/** String field values up to this length are hashed through the name cache (long ones, such as
 *  log lines, are many and mostly distinct: they are hashed character by character). */
const SHORT_STRING = 32;

/** The one word that stands for an event's machine and name (see TraceHash). */
export function eventKey(m: string, ev: string): number {
  return keyOf(nameHash(m), nameHash(ev));
}

function keyOf(machineHash: number, eventHash: number): number {
  return Math.imul(machineHash, 0x9e3779b1) ^ eventHash;
}

/**
 * Two 32-bit FNV-1a style lanes, printed as 16 hex digits. An event is hashed as words without
 * building strings: its time, one word for machine and name (eventKey), then per field one word
 * mixing the key's hash with an integer value (the field keys of an event are fixed by its name),
 * or the key and the value's hash (short strings) or characters. C trace points are hashed in
 * the machine's memory (wasm/port/trace_host.c) and folded in as words (TraceSource).
 */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0x5bd1e995;

  word(w: number): void {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w ^ (this.a >>> 15), 0x5bd1e995);
  }

  time(t: number): void {
    this.word(t >>> 0);
    this.word((t / 4294967296) | 0);
  }

  /** One field, given its key's name hash. */
  fieldHashed(k: number, v: number | string | boolean): void {
    if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) {
      this.word(k ^ v);
      return;
    }
    this.word(~k);
    const s = String(v);
    if (s.length <= SHORT_STRING) {
      this.word(nameHash(s)); // addresses, flags, states: few distinct values, hashed once each
      return;
    }
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    this.word(0x1f); // separator: "ab","c" differs from "a","bc"
  }

  copy(): TraceHash {
    const h = new TraceHash();
    h.a = this.a;
    h.b = this.b;
    return h;
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

/**
 * Events hashed somewhere else: a machine's C trace points hash themselves in its linear memory
 * (wasm/port/trace_host.c). The trace adds their count to its own and folds their state into the
 * digest, so the digest covers them whether or not anyone received them as events.
 */
export interface TraceSource {
  /** Events hashed so far. */
  counted(): number;
  /** Mixes the source's current hash state into `h`. */
  fold(h: TraceHash): void;
}

interface EventShape {
  evHash: number;
  names: string[];
  hashes: number[];
}

/** Records events, keeps the hash, and optionally keeps the events themselves (bounded). */
export class Trace {
  private readonly hash = new TraceHash();
  readonly events: TraceEvent[] = [];
  private readonly sinks: TraceSink[] = [];
  private readonly sources: TraceSource[] = [];
  private recorded = 0;

  constructor(private readonly keep: number = 0) {}

  subscribe(sink: TraceSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  addSource(source: TraceSource): void {
    this.sources.push(source);
  }

  /** True while someone takes events (a sink, or room left in `events`): sources then deliver. */
  get wantsEvents(): boolean {
    return this.sinks.length > 0 || this.events.length < this.keep;
  }

  /** Events recorded here plus those hashed by sources. */
  get count(): number {
    let n = this.recorded;
    for (const s of this.sources) n += s.counted();
    return n;
  }

  /** Hashes and counts an event; builds the TraceEvent object only when someone takes it. */
  recordAt(t: number, m: string, ev: string, f?: TraceEvent['f']): void {
    this.recorded++;
    const h = this.hash;
    const shape = this.shapeOf(ev);
    h.time(t);
    h.word(keyOf(nameHash(m), shape.evHash)); // eventKey(m, ev) with the event's hash cached
    if (f !== undefined) this.hashFields(shape, f);
    if (this.wantsEvents) this.deliver(f === undefined ? { t, m, ev } : { t, m, ev, f });
  }

  /** Per event name: its hash, and its field keys' hashes in the order last seen. An event's
   *  fields are written in a fixed order, so comparing keys (interned constants) replaces most
   *  hash lookups. */
  private readonly shapes = new Map<string, EventShape>();

  private shapeOf(ev: string): EventShape {
    let shape = this.shapes.get(ev);
    if (shape === undefined) this.shapes.set(ev, (shape = { evHash: nameHash(ev), names: [], hashes: [] }));
    return shape;
  }

  private hashFields(keys: EventShape, f: NonNullable<TraceEvent['f']>): void {
    const h = this.hash;
    let i = 0;
    for (const k in f) {
      if (keys.names[i] !== k) {
        keys.names[i] = k;
        keys.hashes[i] = nameHash(k);
      }
      h.fieldHashed(keys.hashes[i]!, f[k]!);
      i++;
    }
  }

  /** Hands an event a source has already hashed and counted to whoever takes events. */
  deliver(e: TraceEvent): void {
    if (this.events.length < this.keep) this.events.push(e);
    for (const s of this.sinks) s(e);
  }

  /** Mixes a source's state into the hash at time `t` (a machine does this after each poll in
   *  which its C code traced, which ties C events to the world's clock and order). */
  absorb(t: number, source: TraceSource): void {
    this.hash.time(t);
    source.fold(this.hash);
  }

  digest(): string {
    if (this.sources.length === 0) return this.hash.digest();
    const h = this.hash.copy();
    for (const s of this.sources) s.fold(h);
    return h.digest();
  }
}
