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

function nameHash(s: string): number {
  let w = NAME_HASHES.get(s);
  if (w === undefined) {
    w = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) w = Math.imul(w ^ s.charCodeAt(i), 0x01000193);
    NAME_HASHES.set(s, w);
  }
  return w;
}

/** The one word that stands for an event's machine and name (see TraceHash). */
export function eventKey(m: string, ev: string): number {
  return Math.imul(nameHash(m), 0x9e3779b1) ^ nameHash(ev);
}

const KEY_A = nameHash('a');
const KEY_B = nameHash('b');
const KEY_C = nameHash('c');
const KEY_D = nameHash('d');

/**
 * Two 32-bit FNV-1a style lanes, printed as 16 hex digits. An event is hashed as words without
 * building strings, because every C trace point passes through here: its time, one word for
 * machine and name (eventKey), then per field one word mixing the key's hash with an integer
 * value (the field keys of an event are fixed by its name), or the key and the value's characters.
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

  field(key: string, v: number | string | boolean): void {
    const k = nameHash(key);
    if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) {
      this.word(k ^ v);
      return;
    }
    this.word(~k);
    const s = String(v);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    this.word(0x1f); // separator: "ab","c" differs from "a","bc"
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
    h.time(e.t);
    h.word(eventKey(e.m, e.ev));
    if (e.f !== undefined) {
      for (const k in e.f) h.field(k, e.f[k]!);
    }
    if (this.events.length < this.keep) this.events.push(e);
    for (const s of this.sinks) s(e);
  }

  /** Same as record({t, m, ev, f: {a, b, c, d}}) for the u32 fields of a C trace point, without
   *  the objects when nobody looks. `key` is eventKey(m, ev), computed once by the caller. */
  recordAbcd(t: number, key: number, m: string, ev: string, a: number, b: number, c: number, d: number): void {
    if (this.sinks.length > 0 || this.events.length < this.keep) {
      this.record({ t, m, ev, f: { a, b, c, d } });
      return;
    }
    this.count++;
    const h = this.hash;
    h.time(t);
    h.word(key);
    h.word(KEY_A ^ a);
    h.word(KEY_B ^ b);
    h.word(KEY_C ^ c);
    h.word(KEY_D ^ d);
  }

  digest(): string {
    return this.hash.digest();
  }
}
