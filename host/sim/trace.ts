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

/** Two 32-bit FNV-1a lanes with different offset bases, printed as 16 hex digits. */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  update(text: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c ^ (i & 0xff), 0x01000193);
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
  }

  digest(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}

export function canonicalEvent(e: TraceEvent): string {
  let s = `${e.t}|${e.m}|${e.ev}`;
  if (e.f !== undefined) {
    for (const k of Object.keys(e.f).sort()) s += `|${k}=${String(e.f[k])}`;
  }
  return s + '\n';
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
    this.hash.update(canonicalEvent(e));
    if (this.events.length < this.keep) this.events.push(e);
    for (const s of this.sinks) s(e);
  }

  digest(): string {
    return this.hash.digest();
  }
}
