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

/**
 * Two 32-bit FNV-1a style lanes, printed as 16 hex digits. Events are hashed field by field
 * (time, machine, name, then each field's key and value in insertion order) without building
 * strings, because every C trace point passes through here.
 */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0x5bd1e995;

  private word(w: number): void {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w ^ (this.a >>> 15), 0x5bd1e995);
  }

  str(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    this.word(0x1f); // separator: "ab","c" differs from "a","bc"
  }

  /** A name (machine, event, field key): mixed in as one word, its own 32-bit FNV-1a. */
  name(s: string): void {
    let w = NAME_HASHES.get(s);
    if (w === undefined) {
      w = 0x811c9dc5;
      for (let i = 0; i < s.length; i++) w = Math.imul(w ^ s.charCodeAt(i), 0x01000193);
      NAME_HASHES.set(s, w);
    }
    this.word(w);
  }

  value(v: number | string | boolean): void {
    if (typeof v === 'number' && (v | 0) === v) {
      this.word(0x1e);
      this.word(v);
    } else if (typeof v === 'number' && v >= 0 && v <= 0xffffffff && v === Math.floor(v)) {
      this.word(0x1d);
      this.word(v >>> 0);
    } else {
      this.str(String(v));
    }
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Records events, keeps the hash, and optionally keeps the events themselves (bounded). */
export class Trace {
  private readonly hash = new TraceHash();
  readonly events: TraceEvent[] = [];
  private readonly sinks: TraceSink[] = [];
  count = 0;

  constructor(private readonly keep: number = 0) {}

  subscribe(sink: TraceSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  record(e: TraceEvent): void {
    this.count++;
    const h = this.hash;
    h.value(e.t);
    h.name(e.m);
    h.name(e.ev);
    if (e.f !== undefined) {
      for (const k in e.f) {
        h.name(k);
        h.value(e.f[k]!);
      }
    }
    if (this.events.length < this.keep) this.events.push(e);
    for (const s of this.sinks) s(e);
  }

  /** Same as record({t, m, ev, f: {a, b, c, d}}), without the objects when nobody looks. */
  recordAbcd(t: number, m: string, ev: string, a: number, b: number, c: number, d: number): void {
    if (this.sinks.length > 0 || this.events.length < this.keep) {
      this.record({ t, m, ev, f: { a, b, c, d } });
      return;
    }
    this.count++;
    const h = this.hash;
    h.value(t);
    h.name(m);
    h.name(ev);
    h.name('a');
    h.value(a);
    h.name('b');
    h.value(b);
    h.name('c');
    h.value(c);
    h.name('d');
    h.value(d);
  }

  digest(): string {
    return this.hash.digest();
  }
}
