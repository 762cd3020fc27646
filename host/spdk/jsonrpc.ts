/**
 * SPDK's control plane (decision 10): a JSON-RPC 2.0 server per machine with SPDK's method names,
 * parameter names and RPC states. Browser-safe.
 *
 * Each method is declared once (`defineMethod`): its SPDK name, the RPC states it may run in
 * (SPDK_RPC_STARTUP / SPDK_RPC_RUNTIME), a schema of named parameters (type, required, range or
 * allowed values), the SPDK parameters this model cannot apply (rejected with the reason), an
 * optional side-effect-free `check`, and the handler. The server validates every call the same way
 * before the handler runs, so a handler sees only well-typed, in-range parameters.
 *
 * Like SPDK's JSON decoders, parameters not in the schema are rejected. Unlike SPDK, whose errors
 * say only "Invalid parameters", every error names the method, the field, what was expected and
 * what was given (also in `error.data`).
 */
import * as abi from '../gen/abi.js';
import { MachineCrashed } from './crash.js';
import type { SpdkMachine } from './machine.js';

/** Error codes: JSON-RPC 2.0's, plus SPDK_JSONRPC_ERROR_INVALID_STATE. */
export const JSONRPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  INVALID_STATE: -1,
} as const;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** SPDK's RPC states: before and after framework_start_init. */
export type RpcState = 'startup' | 'runtime';
export const STARTUP: readonly RpcState[] = ['startup'];
export const RUNTIME: readonly RpcState[] = ['runtime'];
export const STARTUP_AND_RUNTIME: readonly RpcState[] = ['startup', 'runtime'];

export type ParamType = 'string' | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int32' | 'int64' | 'number' | 'object' | 'array';

export interface ParamSpec {
  /** SPDK's parameter name. */
  name: string;
  type: ParamType;
  required?: boolean;
  /** Inclusive bounds, narrowing the type's own range (numbers) or the length (strings, arrays). */
  min?: number;
  max?: number;
  /** The only values accepted. */
  choices?: readonly (string | number | boolean)[];
  /** Why `min`/`max`/`choices` are narrower than upstream's (the error quotes it). */
  why?: string;
  /** One line for rpc_get_methods-style listings and docs. */
  doc?: string;
  /** null is accepted (and left to the handler), as SPDK's decoder for this field accepts it. */
  nullable?: boolean;
}

export type RpcParams = Readonly<Record<string, JsonValue>>;

export interface RpcContext {
  machine: SpdkMachine;
  server: RpcServer;
}

export interface RpcMethod {
  /** SPDK's method name, e.g. "sock_impl_set_options". */
  name: string;
  /** States it may be called in (SPDK_RPC_REGISTER's state mask). */
  states: readonly RpcState[];
  params: readonly ParamSpec[];
  /** SPDK parameters this model does not apply: name -> reason (rejected, never ignored). */
  unsupported?: Readonly<Record<string, string>>;
  /** Checks that need more than the schema (other fields, machine state) and change nothing;
   *  throw `invalidParams`/RpcError. Run before the handler and by the config loader's dry run of
   *  the whole file — so only look at state no earlier config entry could create (a registered
   *  sock impl, yes; a bdev made by bdev_malloc_create, no: check that in the handler). */
  check?(ctx: RpcContext, params: RpcParams): void;
  /** Applies the call; returns the JSON-RPC result. Throws RpcError for a failed call. */
  handler(ctx: RpcContext, params: RpcParams): JsonValue;
  /** The bdev name (or lvol alias) the call will register, when the params alone say it: the
   *  config loader's dry run refuses a name taken now or by an earlier entry of the file. */
  createsBdev?(params: RpcParams): string | undefined;
  /** Called just before the handler; returns what reverses a successful call (given its result),
   *  so a config that fails part-way is rolled back. */
  undoable?(ctx: RpcContext, params: RpcParams): (result: JsonValue) => void;
}

/** Declares a method, checking the declaration itself (names unique, ranges sane). */
export function defineMethod(m: RpcMethod): RpcMethod {
  const seen = new Set<string>();
  for (const p of m.params) {
    if (seen.has(p.name)) throw new Error(`RPC ${m.name}: parameter ${p.name} declared twice`);
    if (m.unsupported?.[p.name] !== undefined) throw new Error(`RPC ${m.name}: parameter ${p.name} both declared and unsupported`);
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) throw new Error(`RPC ${m.name}: parameter ${p.name} has min > max`);
    seen.add(p.name);
  }
  if (m.states.length === 0) throw new Error(`RPC ${m.name}: no states`);
  return m;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: JsonValue;
}

/** Longest message and longest string in `data` an error carries: a bad value is quoted by a
 *  prefix only, so a 1 MiB parameter is never echoed back. */
export const ERROR_MESSAGE_MAX = 512;
export const ERROR_VALUE_MAX = 64;

export class RpcError extends Error {
  readonly data?: JsonValue;

  constructor(readonly code: number, message: string, data?: JsonValue) {
    super(clipText(message, ERROR_MESSAGE_MAX));
    this.name = 'RpcError';
    if (data !== undefined) this.data = clipValue(data);
  }

  toJSON(): RpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

/** `text` cut to `max` characters, marked with "..." where cut. */
export function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** An error's data with long strings cut and nested values (a bad parameter quoted in full)
 *  replaced by their short preview; numbers, booleans and null stay as they are. */
function clipValue(v: JsonValue, depth = 0): JsonValue {
  if (typeof v === 'string') return clipText(v, ERROR_VALUE_MAX);
  if (v === null || typeof v !== 'object') return v;
  if (depth > 0) return describe(v);
  if (Array.isArray(v)) return describe(v);
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) out[clipText(k, ERROR_VALUE_MAX)] = clipValue(x, depth + 1);
  return out;
}

/** -32602 naming the method and field: "<method>: parameter '<field>' <problem>". */
export function invalidParams(method: string, field: string, problem: string, extra: JsonObject = {}): RpcError {
  return new RpcError(JSONRPC_ERROR.INVALID_PARAMS, `${method}: parameter '${field}' ${problem}`, { method, field, ...extra });
}

const ERRNO_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(abi)) {
  if (/^E[A-Z]+$/.test(k) && typeof v === 'number' && !ERRNO_NAMES.has(v)) ERRNO_NAMES.set(v, k);
}

/** "EINVAL" for emscripten's errno value (the C returns -errno). */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** SPDK answers a failed C call inside a handler with -32602; name the call and the errno. */
export function cCallFailed(method: string, call: string, rc: number): RpcError {
  return new RpcError(JSONRPC_ERROR.INVALID_PARAMS, `${method}: ${call} failed: -${errnoName(rc)}`, { method, call, errno: -Math.abs(rc) });
}

/** lib/jsonrpc: a request may hold at most this many JSON values, else it is a parse error. */
export const SPDK_JSONRPC_MAX_VALUES = 1024;

/**
 * The JSON values of `v` as spdk_json_parse counts them (a scalar or a name is one; an object or
 * array is two, its begin and end), stopping once past `limit`. Iterative, so a value nested
 * 100k levels deep is counted without exhausting the stack.
 */
export function countJsonValues(v: unknown, limit: number): number {
  const todo: unknown[] = [v];
  let n = 0;
  while (todo.length > 0 && n <= limit) {
    const x = todo.pop();
    if (Array.isArray(x)) {
      n += 2;
      for (const e of x) todo.push(e);
    } else if (typeof x === 'object' && x !== null) {
      n += 2;
      for (const [, e] of Object.entries(x)) {
        n++;
        todo.push(e);
      }
    } else {
      n++;
    }
  }
  return n;
}

/** The methods a server knows; one registry is shared by many servers. */
export class RpcRegistry {
  private readonly methods = new Map<string, RpcMethod>();

  register(...ms: RpcMethod[]): this {
    for (const m of ms) {
      if (this.methods.has(m.name)) throw new Error(`duplicate RPC ${m.name} registered`);
      this.methods.set(m.name, m);
    }
    return this;
  }

  get(name: string): RpcMethod | undefined {
    return this.methods.get(name);
  }

  /** Every method, by name. */
  list(): RpcMethod[] {
    return [...this.methods.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export type JsonRpcId = string | number | null;

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: JsonValue }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: RpcErrorObject };

export interface RpcServerOptions {
  registry: RpcRegistry;
  /** Initial RPC state. Default 'startup', as `spdk_tgt --wait-for-rpc` (and `--json`) start:
   *  options may be set before framework_start_init moves the server to 'runtime'. */
  state?: RpcState;
}

/** One machine's JSON-RPC server. */
export class RpcServer {
  state: RpcState;
  readonly registry: RpcRegistry;

  constructor(readonly machine: SpdkMachine, opts: RpcServerOptions) {
    this.registry = opts.registry;
    this.state = opts.state ?? 'startup';
  }

  /** Raw JSON text in, raw JSON text out; undefined for a notification (a request without id). */
  handle(text: string): string | undefined {
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return JSON.stringify(errorResponse(null, new RpcError(JSONRPC_ERROR.PARSE_ERROR, `Parse error: ${why}`)));
    }
    const values = countJsonValues(req, SPDK_JSONRPC_MAX_VALUES);
    if (values > SPDK_JSONRPC_MAX_VALUES) {
      return JSON.stringify(errorResponse(null, new RpcError(JSONRPC_ERROR.PARSE_ERROR,
        `Parse error: the request holds more than ${SPDK_JSONRPC_MAX_VALUES} JSON values (SPDK_JSONRPC_MAX_VALUES)`)));
    }
    const res = this.dispatch(req);
    return res === undefined ? undefined : JSON.stringify(res);
  }

  /** A parsed request object in, the response out (undefined for a notification). */
  dispatch(req: unknown): JsonRpcResponse | undefined {
    if (Array.isArray(req)) {
      return errorResponse(null, new RpcError(JSONRPC_ERROR.INVALID_REQUEST, 'Invalid request: batch requests are not supported'));
    }
    if (!isObject(req)) return errorResponse(null, new RpcError(JSONRPC_ERROR.INVALID_REQUEST, `Invalid request: expected an object, got ${describe(req)}`));
    const hasId = Object.hasOwn(req, 'id');
    const id = req['id'];
    if (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number') {
      return errorResponse(null, new RpcError(JSONRPC_ERROR.INVALID_REQUEST, `Invalid request: 'id' must be a string, number or null, got ${describe(id)}`));
    }
    const rid = (hasId ? id : null) as JsonRpcId;
    const invalid = requestProblem(req);
    if (invalid !== undefined) return errorResponse(rid, new RpcError(JSONRPC_ERROR.INVALID_REQUEST, `Invalid request: ${invalid}`));
    let res: JsonRpcResponse;
    try {
      res = { jsonrpc: '2.0', id: rid, result: this.call(req['method'] as string, own(req, 'params') as JsonValue | undefined) };
    } catch (err) {
      res = errorResponse(rid, asRpcError(req['method'] as string, err));
    }
    return hasId ? res : undefined;
  }

  /** Calls a method; returns its result or throws RpcError. */
  call(method: string, params?: JsonValue): JsonValue {
    const { m, p } = this.validate(method, params);
    return m.handler({ machine: this.machine, server: this }, p);
  }

  /**
   * Everything `call` checks before the handler runs — method known, allowed in `state`, params
   * match the schema, the method's `check` — without changing anything. Throws RpcError.
   */
  validate(method: string, params?: JsonValue, state: RpcState = this.state): { m: RpcMethod; p: RpcParams } {
    const m = this.registry.get(method);
    if (m === undefined) throw new RpcError(JSONRPC_ERROR.METHOD_NOT_FOUND, `Method not found: ${method}`, { method });
    if (!m.states.includes(state)) throw stateError(m, state);
    const p = validateParams(m, params);
    m.check?.({ machine: this.machine, server: this }, p);
    return { m, p };
  }
}

function stateError(m: RpcMethod, state: RpcState): RpcError {
  const msg = state === 'startup'
    ? `${m.name}: Method may only be called after framework is initialized using framework_start_init RPC.`
    : `${m.name}: Method may only be called before framework is initialized. Use --wait-for-rpc command line parameter and then issue this RPC before the framework_start_init RPC.`;
  return new RpcError(JSONRPC_ERROR.INVALID_STATE, msg, { method: m.name, state });
}

/** Checks params against the method's schema; returns them as a plain object. */
export function validateParams(m: RpcMethod, params: JsonValue | undefined): RpcParams {
  if (params === undefined || params === null) params = {};
  else if (!isObject(params)) {
    throw new RpcError(JSONRPC_ERROR.INVALID_PARAMS, `${m.name}: params must be an object of named parameters, got ${describe(params)}`, { method: m.name });
  }
  const specs = new Map(m.params.map((p) => [p.name, p]));
  for (const key of Object.keys(params)) {
    const why = m.unsupported !== undefined && Object.hasOwn(m.unsupported, key) ? m.unsupported[key] : undefined;
    if (why !== undefined) throw invalidParams(m.name, key, `is not supported by this model: ${why}`);
    if (!specs.has(key)) {
      const accepted = m.params.length > 0 ? m.params.map((p) => p.name).join(', ') : 'none';
      throw invalidParams(m.name, key, `is unknown (accepted: ${accepted})`);
    }
  }
  for (const spec of m.params) {
    const v = Object.hasOwn(params, spec.name) ? params[spec.name] : undefined;
    if (v === undefined) {
      if (spec.required) throw invalidParams(m.name, spec.name, `is required (${expected(spec)})`, { expected: expected(spec) });
      continue;
    }
    if (v === null && spec.nullable === true) continue;
    const problem = valueProblem(spec, v);
    if (problem !== undefined) throw invalidParams(m.name, spec.name, `${problem}, got ${describe(v)}`, { expected: expected(spec), got: v });
  }
  // A copy without a prototype: a handler's p['constructor'] is undefined, never Object's.
  return Object.assign(Object.create(null) as Record<string, JsonValue>, params);
}

const INT_RANGE: Partial<Record<ParamType, [number, number]>> = {
  uint8: [0, 0xff],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int32: [-0x80000000, 0x7fffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** What a value of `spec` looks like, e.g. "uint32 in 0..4294967295" or "bool". */
export function expected(spec: ParamSpec): string {
  if (spec.choices !== undefined) return `one of ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`;
  const r = INT_RANGE[spec.type];
  if (r !== undefined) return `${spec.type} in ${spec.min ?? r[0]}..${spec.max ?? r[1]}`;
  if (spec.type === 'number' && (spec.min !== undefined || spec.max !== undefined)) return `number in ${spec.min ?? '-inf'}..${spec.max ?? 'inf'}`;
  if ((spec.type === 'string' || spec.type === 'array') && (spec.min !== undefined || spec.max !== undefined)) {
    return `${spec.type} of length ${spec.min ?? 0}..${spec.max ?? 'any'}`;
  }
  return spec.type;
}

function valueProblem(spec: ParamSpec, v: JsonValue): string | undefined {
  const want = `must be ${expected(spec)}${spec.why !== undefined ? ` (${spec.why})` : ''}`;
  switch (spec.type) {
    case 'bool':
      if (typeof v !== 'boolean') return `must be a bool (true or false)`;
      break;
    case 'string':
      if (typeof v !== 'string') return `must be a string`;
      if ((spec.min !== undefined && v.length < spec.min) || (spec.max !== undefined && v.length > spec.max)) return want;
      break;
    case 'object':
      if (!isObject(v)) return `must be an object`;
      break;
    case 'array':
      if (!Array.isArray(v)) return `must be an array`;
      if ((spec.min !== undefined && v.length < spec.min) || (spec.max !== undefined && v.length > spec.max)) return want;
      break;
    case 'number':
      if (typeof v !== 'number') return `must be a number`;
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) return want;
      break;
    default: {
      const r = INT_RANGE[spec.type]!;
      if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer (${spec.type})`;
      if (v < (spec.min ?? r[0]) || v > (spec.max ?? r[1])) return want;
    }
  }
  if (spec.choices !== undefined && !spec.choices.includes(v as string | number | boolean)) return want;
  return undefined;
}

/** req[key] if req has it as its own property (a request is data, its prototype is not). */
function own(req: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(req, key) ? req[key] : undefined;
}

function requestProblem(req: Record<string, unknown>): string | undefined {
  if (own(req, 'jsonrpc') !== '2.0') return `'jsonrpc' must be "2.0", got ${describe(own(req, 'jsonrpc'))}`;
  if (typeof own(req, 'method') !== 'string') return `'method' must be a string, got ${describe(own(req, 'method'))}`;
  const p = own(req, 'params');
  if (p !== undefined && p !== null && typeof p !== 'object') return `'params' must be an object or array, got ${describe(p)}`;
  return undefined;
}

function asRpcError(method: string, err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof MachineCrashed) return new RpcError(JSONRPC_ERROR.INTERNAL_ERROR, `${method}: ${err.message}`, { method });
  return new RpcError(JSONRPC_ERROR.INTERNAL_ERROR, `${method}: internal error: ${err instanceof Error ? err.message : String(err)}`, { method });
}

function errorResponse(id: JsonRpcId, e: RpcError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: e.toJSON() };
}

export function isObject(v: unknown): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as an error message shows it: type and a short JSON prefix. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  const type = Array.isArray(v) ? 'array' : typeof v;
  return `${type} ${clipText(jsonPrefix(v, 41), 40)}`;
}

/** Punctuation in jsonPrefix's work list, told apart from the values being shown. */
class Lit {
  constructor(readonly text: string) {}
}

/** The first `max` characters (or a few more) of v's JSON, built without serialising all of v:
 *  a 1 MiB string or an array nested 100k deep costs only the prefix. */
function jsonPrefix(v: unknown, max: number): string {
  let out = '';
  const todo: unknown[] = [v];
  const pushAll = (parts: unknown[]) => {
    for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
  };
  while (todo.length > 0 && out.length < max) {
    const x = todo.pop();
    if (x instanceof Lit) out += x.text;
    else if (typeof x === 'string') out += JSON.stringify(x.slice(0, max));
    else if (Array.isArray(x)) {
      const parts: unknown[] = [new Lit('[')];
      x.slice(0, max).forEach((e, i) => parts.push(...(i > 0 ? [new Lit(',')] : []), e));
      pushAll([...parts, new Lit(']')]);
    } else if (typeof x === 'object' && x !== null) {
      const parts: unknown[] = [new Lit('{')];
      Object.entries(x).slice(0, max).forEach(([k, e], i) => parts.push(new Lit(`${i > 0 ? ',' : ''}${JSON.stringify(k.slice(0, max))}:`), e));
      pushAll([...parts, new Lit('}')]);
    } else out += String(JSON.stringify(x) ?? x);
  }
  return out;
}
