/**
 * SPDK JSON config files (`spdk_tgt --json FILE`, the output of `save_config`), loaded into one
 * machine's RPC server. Browser-safe: it takes the file's text or parsed JSON.
 *
 * As lib/init/json_config.c: `{"subsystems": [{"subsystem": NAME, "config": [{"method": M,
 * "params": {...}}, ...] | null}, ...]}`, other root members ignored, comments allowed. Entries run
 * in file order in two passes: first every method allowed in the startup state, then
 * framework_start_init, then the runtime-only methods. Unlike SPDK, a config that fails changes
 * nothing: the whole file is validated first — shape, every method known and allowed, every
 * parameter against its schema, each method's side-effect-free check, and the bdev names it
 * registers against the machine's bdevs and the file's earlier entries — and a call that still
 * fails while applying (a C error) rolls back the calls applied before it, newest first. The
 * error names the subsystem, the entry, the method and the field.
 */
import { describe, isObject, RpcError, type JsonValue, type RpcMethod, type RpcParams, type RpcServer, type RpcState } from './jsonrpc.js';
import { bdevHolding } from './rpc/bdev-namespace.js';

export interface JsonConfigEntry {
  subsystem: string;
  /** Position in the subsystem's "config" array. */
  index: number;
  method: string;
  params: JsonValue | undefined;
}

export interface JsonConfigLocation {
  subsystem?: string;
  index?: number;
  method?: string;
  field?: string;
}

export class JsonConfigError extends Error {
  constructor(message: string, readonly where: JsonConfigLocation, readonly rpc?: RpcError) {
    super(message);
    this.name = 'JsonConfigError';
  }
}

export interface JsonConfigReport {
  /** Calls made, in order (framework_start_init included when this load made it). */
  applied: { subsystem: string; method: string }[];
  /** The server's state afterwards. */
  state: RpcState;
}

export interface LoadOptions {
  /** Call framework_start_init after the startup pass (spdk_tgt --json does). Default true. */
  startFramework?: boolean;
}

/** Checks the file's shape and lists its entries in file order. */
export function parseJsonConfig(input: string | JsonValue): JsonConfigEntry[] {
  let root: JsonValue;
  if (typeof input === 'string') {
    try {
      root = JSON.parse(stripComments(input)) as JsonValue;
    } catch (err) {
      throw new JsonConfigError(`json config: not valid JSON: ${err instanceof Error ? err.message : String(err)}`, {});
    }
  } else {
    root = input;
  }
  if (!isObject(root)) throw new JsonConfigError(`json config: the root must be an object with a "subsystems" array, got ${describe(root)}`, {});
  const subsystems = root['subsystems'];
  if (!Array.isArray(subsystems)) throw new JsonConfigError(`json config: "subsystems" must be an array, got ${describe(subsystems)}`, {});
  const entries: JsonConfigEntry[] = [];
  subsystems.forEach((s, si) => {
    if (!isObject(s)) throw new JsonConfigError(`json config: subsystems[${si}] must be an object, got ${describe(s)}`, {});
    const name = s['subsystem'];
    if (typeof name !== 'string') throw new JsonConfigError(`json config: subsystems[${si}] needs a "subsystem" name (string), got ${describe(name)}`, {});
    const config = s['config'];
    if (config === null) return;
    if (!Array.isArray(config)) {
      throw new JsonConfigError(`json config: subsystem "${name}": "config" must be an array or null, got ${describe(config)}`, { subsystem: name });
    }
    config.forEach((c, index) => {
      const where = `json config: subsystem "${name}" config[${index}]`;
      if (!isObject(c)) throw new JsonConfigError(`${where} must be an object with "method" and "params", got ${describe(c)}`, { subsystem: name, index });
      const method = c['method'];
      if (typeof method !== 'string') throw new JsonConfigError(`${where} needs a "method" (string), got ${describe(method)}`, { subsystem: name, index });
      const params = c['params'];
      if (params !== undefined && !isObject(params)) {
        throw new JsonConfigError(`${where} method "${method}": "params" must be an object, got ${describe(params)}`, { subsystem: name, index, method });
      }
      entries.push({ subsystem: name, index, method, params });
    });
  });
  return entries;
}

interface Planned {
  entry: JsonConfigEntry;
  m: RpcMethod;
  p: RpcParams;
}

/** Validates every entry against `server` without changing anything; returns the two passes. */
export function planJsonConfig(server: RpcServer, entries: JsonConfigEntry[]): { startup: Planned[]; runtime: Planned[] } {
  const startup: Planned[] = [];
  const runtime: Planned[] = [];
  const named = new Map<string, JsonConfigEntry>();
  for (const entry of entries) {
    const m = server.registry.get(entry.method);
    const at = (why: string, field?: string): JsonConfigError =>
      new JsonConfigError(`json config: subsystem "${entry.subsystem}" config[${entry.index}] method "${entry.method}": ${why}`,
        { subsystem: entry.subsystem, index: entry.index, method: entry.method, field });
    if (m === undefined) throw at('no such method');
    // The pass it runs in: startup when allowed there and the server is still starting up.
    const state: RpcState = server.state === 'startup' && m.states.includes('startup') ? 'startup' : 'runtime';
    if (!m.states.includes(state)) {
      throw at(`may only be called before framework_start_init, and this machine's RPC server is already in the runtime state`);
    }
    try {
      const { p } = server.validate(entry.method, entry.params, state);
      const bdev = m.createsBdev?.(p);
      if (bdev !== undefined) {
        const earlier = named.get(bdev);
        if (earlier !== undefined) throw at(`bdev name "${bdev}" is also registered by subsystem "${earlier.subsystem}" config[${earlier.index}] (-EEXIST)`, 'name');
        const holder = bdevHolding({ machine: server.machine, server }, bdev);
        if (holder !== undefined) throw at(`bdev name "${bdev}" is taken by the existing bdev "${holder}" (-EEXIST)`, 'name');
        named.set(bdev, entry);
      }
      (state === 'startup' ? startup : runtime).push({ entry, m, p });
    } catch (err) {
      if (err instanceof JsonConfigError) throw err;
      if (!(err instanceof RpcError)) throw err;
      const field = isObject(err.data ?? null) ? (err.data as Record<string, JsonValue>)['field'] : undefined;
      const e = at(stripMethod(err.message, entry.method), typeof field === 'string' ? field : undefined);
      throw new JsonConfigError(e.message, e.where, err);
    }
  }
  return { startup, runtime };
}

/** Validates the whole config, then applies it (see the file comment). */
export function loadJsonConfig(server: RpcServer, input: string | JsonValue, opts: LoadOptions = {}): JsonConfigReport {
  const entries = parseJsonConfig(input);
  const plan = planJsonConfig(server, entries);
  const applied: JsonConfigReport['applied'] = [];
  const undo: { method: string; revert: () => void }[] = [];
  const ctx = { machine: server.machine, server };
  const call = (method: string, params: JsonValue | undefined, m: RpcMethod | undefined): void => {
    const revert = m?.undoable?.(ctx, (params ?? {}) as RpcParams);
    const result = server.call(method, params);
    if (revert !== undefined) undo.push({ method, revert: () => revert(result) });
    else undo.push({ method, revert: () => { throw new Error(`${method} cannot be undone`); } });
  };
  const run = (x: Planned): void => {
    try {
      call(x.entry.method, x.entry.params, x.m);
    } catch (err) {
      const e = err instanceof RpcError ? err : undefined;
      const why = e !== undefined ? stripMethod(e.message, x.entry.method) : err instanceof Error ? err.message : String(err);
      const kept = rollBack(undo);
      const after = kept.length === 0
        ? `the ${applied.length} call(s) applied before it were rolled back`
        : `${applied.length} call(s) were applied and ${kept.join(', ')} could not be rolled back`;
      throw new JsonConfigError(
        `json config: subsystem "${x.entry.subsystem}" config[${x.entry.index}] method "${x.entry.method}" failed (${after}): ${why}`,
        { subsystem: x.entry.subsystem, index: x.entry.index, method: x.entry.method }, e);
    }
    applied.push({ subsystem: x.entry.subsystem, method: x.entry.method });
  };
  for (const x of plan.startup) run(x);
  if (server.state === 'startup' && (opts.startFramework ?? true)) {
    call('framework_start_init', undefined, server.registry.get('framework_start_init'));
    applied.push({ subsystem: '', method: 'framework_start_init' });
  }
  for (const x of plan.runtime) run(x);
  return { applied, state: server.state };
}

/** Reverts applied calls newest first; the methods whose call could not be reverted. */
function rollBack(undo: { method: string; revert: () => void }[]): string[] {
  const kept: string[] = [];
  for (const u of undo.reverse()) {
    try {
      u.revert();
    } catch {
      kept.push(u.method);
    }
  }
  return kept;
}

/** RPC messages start "<method>: "; the config error already names the method. */
function stripMethod(message: string, method: string): string {
  return message.startsWith(`${method}: `) ? message.slice(method.length + 2) : message;
}

/** Removes // and /* *\/ comments outside strings (SPDK parses configs with comments allowed). */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JsonConfigError('json config: unterminated /* comment', {});
      out += ' ';
      i = end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
