/**
 * replica-verify-race (seed 004) as an explorer scenario (host/explore/scenario.ts): the Longhorn
 * engine model (host/longhorn/spdk-engine) on one SPDK target, with its goroutines as tasks.
 *
 * - bug "9953": `create` (ReplicaCreate as verify's ticker fires, ReplicaGet, EngineCreate over
 *   the replica) against `verify` (monitoring(): two MonitorInterval ticks). Unpatched inserts
 *   before creation (b789d730^), patched defers the insert (PR #288).
 * - bug "13074": the replica exists; `client` (ReplicaDelete with cleanup, ReplicaCreate) against
 *   `verify` with the lock released during its SPDK calls (f01edc84). Unpatched has no
 *   generation counter, patched has replicaMapGen (PR #516).
 *
 * The explorer re-runs setup() for every schedule, synchronously, so the SPDK target is one
 * machine reset to its baseline (no subsystems, no lvols) by JSON-RPC at every setup. The
 * verdict reads what the run left: replicaMap, the engine's ReplicaStatusMap and state, and what
 * ReplicaCreate/ReplicaGet returned.
 */
import { sleep, type TaskBody } from '../explore/task.js';
import type { ExploreScenario, Instance } from '../explore/scenario.js';
import type { EngineInfo } from '../longhorn/spdk-engine/engine.js';
import { EngineError } from '../longhorn/spdk-engine/errors.js';
import type { Replica, ReplicaInfo } from '../longhorn/spdk-engine/replica.js';
import { MONITOR_INTERVAL_US, Server, type ServerOptions } from '../longhorn/spdk-engine/server.js';
import type { RpcServer } from '../spdk/jsonrpc.js';

export type RaceBug = '9953' | '13074';

export const REPLICA = 'r1';
export const ENGINE = 'r1-engine';
const MiB = 1 << 20;
export const REPLICA_REQUEST = { name: REPLICA, lvsName: 'lvs0', specSize: 8 * MiB, portCount: 2 } as const;

/** The server versions each bug's variants select. */
export function serverOptions(bug: RaceBug, patched: boolean): ServerOptions {
  if (bug === '9953') return { replicaInsert: patched ? 'after-create' : 'before-create', verifyLock: 'held', replicaMapGen: false };
  return { replicaInsert: 'after-create', verifyLock: 'released', replicaMapGen: patched };
}

export interface ClientResult {
  created: ReplicaInfo;
  /** ReplicaGet right after ReplicaCreate returned: the info, or the error. */
  got: ReplicaInfo | EngineError;
  engine: EngineInfo | EngineError;
}

function asEngineError(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  throw e;
}

/** The test's client: its ReplicaCreate arrives as verify's ticker fires, then ReplicaGet, then
 *  EngineCreate over the replica at the address ReplicaCreate returned. */
export function* raceClient(s: Server, out?: { result?: ClientResult }): TaskBody<ClientResult> {
  yield* sleep(MONITOR_INTERVAL_US, 'request arrives with the tick');
  const created = yield* s.replicaCreate(REPLICA_REQUEST);
  let got: ReplicaInfo | EngineError;
  try {
    got = yield* s.replicaGet(REPLICA);
  } catch (e) {
    got = asEngineError(e);
  }
  let engine: EngineInfo | EngineError;
  try {
    engine = yield* s.engineCreate({ name: ENGINE, volumeName: 'vol', specSize: 8 * MiB, frontend: '', replicaAddressMap: { [REPLICA]: `${created.ip}:${created.portStart}` } });
  } catch (e) {
    engine = asEngineError(e);
  }
  const result = { created, got, engine };
  if (out !== undefined) out.result = result;
  return result;
}

export interface RecreateResult {
  created?: ReplicaInfo;
  /** ReplicaCreate's gRPC error, when it returned one. */
  error?: EngineError;
}

/** ReplicaDelete (cleanup) then ReplicaCreate of the same name, arriving with verify's tick. */
export function* recreateClient(s: Server, out: RecreateResult = {}): TaskBody<RecreateResult> {
  yield* sleep(MONITOR_INTERVAL_US, 'request arrives with the tick');
  yield* s.replicaDelete(REPLICA, true);
  try {
    out.created = yield* s.replicaCreate(REPLICA_REQUEST);
  } catch (e) {
    out.error = asEngineError(e);
  }
  return out;
}

/** Runs a task alone to its end (set-up before the explored tasks start). */
export function runAlone<R>(body: TaskBody<R>): R {
  for (;;) {
    const r = body.next();
    if (r.done) return r.value;
  }
}

/** The target back at its baseline: no NVMe-oF subsystems, no lvols (clones before snapshots). */
export function resetTarget(rpc: RpcServer): void {
  for (const s of rpc.call('nvmf_get_subsystems') as { nqn: string }[]) rpc.call('nvmf_delete_subsystem', { nqn: s.nqn });
  for (let round = 0; round < 64; round++) {
    const lvols = (rpc.call('bdev_get_bdevs') as { aliases: string[]; driver_specific: { lvol?: { clones?: string[] } } }[]).filter((b) => b.driver_specific.lvol !== undefined);
    if (lvols.length === 0) return;
    for (const b of lvols) if ((b.driver_specific.lvol!.clones ?? []).length === 0) rpc.call('bdev_lvol_delete', { name: b.aliases[0]! });
  }
  throw new Error('resetTarget: lvols left after 64 rounds of deleting leaves');
}

/** What a finished run left, for the verdict and the evidence. */
export interface RaceObservation {
  bug: RaceBug;
  /** What the client's ReplicaCreate returned (the re-create for 13074). */
  created: ReplicaInfo | undefined;
  /** ReplicaCreate's gRPC error instead. */
  createError?: { code: string; message: string };
  gotAfterCreate: ReplicaInfo | { code: string; message: string } | undefined;
  /** replicaMap[r1] at the end. */
  entry: ReplicaInfo | undefined;
  engine: EngineInfo | undefined;
  /** The subsystems SPDK still exports, nqn -> listen addresses. */
  exports: Record<string, string[]>;
  verifyLog: string[];
}

/** The violation in an observation, or undefined. Reads only what the run produced. */
export function judge(o: RaceObservation): string | undefined {
  const c = o.created;
  if (o.createError !== undefined) return `ReplicaCreate failed: ${o.createError.code}: ${o.createError.message}${o.entry !== undefined ? `; replicaMap holds ${o.entry.id} (${o.entry.state})` : ''}`;
  if (c === undefined) return 'the client did not finish';
  const problems: string[] = [];
  const e = o.entry;
  const describe = (r: ReplicaInfo) => `${r.id} (${r.state}, ports ${r.portStart}-${r.portEnd}, ${r.isExposed ? 'exposed' : 'not exposed'})`;
  if (c.state !== 'running') problems.push(`ReplicaCreate returned ${describe(c)}`);
  if (e === undefined) problems.push(`replicaMap has no ${REPLICA}`);
  else if (e.id !== c.id) problems.push(`replicaMap holds ${describe(e)}, not the ${c.id} ReplicaCreate returned`);
  else if (e.state !== 'running' || !e.isExposed || e.portStart !== c.portStart) problems.push(`replicaMap's ${describe(e)} is not as ReplicaCreate returned it`);
  if (o.gotAfterCreate !== undefined && 'code' in o.gotAfterCreate) problems.push(`ReplicaGet after ReplicaCreate: ${o.gotAfterCreate.code}: ${o.gotAfterCreate.message}`);
  if (o.engine !== undefined) {
    const bad = Object.entries(o.engine.replicaModeMap).filter(([, m]) => m !== 'RW');
    if (bad.length > 0) problems.push(`engine ${o.engine.name} has ${bad.map(([n, m]) => `${n} ${m}`).join(', ')} (state ${o.engine.state})`);
  }
  return problems.length === 0 ? undefined : `${c.id}: ${problems.join('; ')}`;
}

/** The observation as lines a person reads. */
export function observationLines(o: RaceObservation): string[] {
  const d = (r: ReplicaInfo) => `${r.id} ${r.state}, ports ${r.portStart}-${r.portEnd}, ${r.isExposed ? 'exposed' : 'not exposed'}`;
  const rows: [string, string][] = [];
  if (o.created !== undefined) rows.push(['ReplicaCreate returned', d(o.created)]);
  if (o.createError !== undefined) rows.push(['ReplicaCreate failed', `${o.createError.code}: ${o.createError.message}`]);
  if (o.gotAfterCreate !== undefined) rows.push(['ReplicaGet right after', 'code' in o.gotAfterCreate ? `${o.gotAfterCreate.code}: ${o.gotAfterCreate.message}` : d(o.gotAfterCreate)]);
  rows.push([`replicaMap[${REPLICA}] at the end`, o.entry === undefined ? '(none)' : d(o.entry)]);
  if (o.engine !== undefined) rows.push([`engine ${o.engine.name}`, `state ${o.engine.state}, ReplicaStatusMap ${Object.entries(o.engine.replicaModeMap).map(([n, m]) => `${n}=${m}`).join(' ')}`]);
  for (const [nqn, addrs] of Object.entries(o.exports)) rows.push(['SPDK exports', `${nqn} at ${addrs.join(', ')}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`), ...o.verifyLog];
}

export interface RaceModel {
  scenario: ExploreScenario;
  /** The observation of the most recent run (the explorer's or a replay's). */
  last(): RaceObservation | undefined;
}

/** The explorer scenario over one SPDK target's JSON-RPC server (an lvstore `lvs0` on it). */
export function raceModel(rpc: RpcServer, bug: RaceBug, patched: boolean, ip: string): RaceModel {
  const opts = { ...serverOptions(bug, patched), ip, portStart: 20001, portEnd: 20100 };
  let observe: (() => RaceObservation) | undefined;
  const scenario: ExploreScenario = {
    name: `replica-verify-race/${bug}/${patched ? 'patched' : 'unpatched'}`,
    setup(): Instance {
      resetTarget(rpc);
      const s = new Server(rpc, opts);
      const entryInfo = (): ReplicaInfo | undefined => s.replicaMap.get(REPLICA)?.info();
      const base = () => ({ bug, entry: entryInfo(), exports: exportsOf(rpc), verifyLog: [...s.log] });
      let tasks: Instance['tasks'];
      let read: () => RaceObservation;
      if (bug === '9953') {
        const out: { result?: ClientResult } = {};
        tasks = [{ name: 'create', body: raceClient(s, out) }, { name: 'verify', body: s.monitoring(2) }];
        read = () => {
          const r = out.result;
          const got = r === undefined ? undefined : r.got instanceof EngineError ? { code: r.got.code, message: r.got.message } : r.got;
          return { ...base(), created: r?.created, gotAfterCreate: got, engine: s.engineMap.get(ENGINE)?.info() };
        };
      } else {
        runAlone(s.replicaCreate(REPLICA_REQUEST));
        const out: RecreateResult = {};
        tasks = [{ name: 'client', body: recreateClient(s, out) }, { name: 'verify', body: s.monitoring(1) }];
        read = () => ({
          ...base(), created: out.created, gotAfterCreate: undefined, engine: undefined,
          ...(out.error !== undefined ? { createError: { code: out.error.code, message: out.error.message } } : {}),
        });
      }
      observe = read;
      return {
        tasks,
        check: () => judge(read()),
        state: () => stateKey(s.replicaMap.get(REPLICA), s.engineMap.get(ENGINE)?.info()),
      };
    },
  };
  return { scenario, last: () => observe?.() };
}

function stateKey(r: Replica | undefined, e: EngineInfo | undefined): string {
  const rs = r === undefined ? 'none' : `${r.id}:${r.state}:${r.portStart}:${r.isExposed}`;
  return e === undefined ? rs : `${rs}|${e.state}:${JSON.stringify(e.replicaModeMap)}`;
}

function exportsOf(rpc: RpcServer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of rpc.call('nvmf_get_subsystems') as { nqn: string; listen_addresses: { traddr: string; trsvcid: string }[] }[]) {
    out[s.nqn] = s.listen_addresses.map((a) => `${a.traddr}:${a.trsvcid}`);
  }
  return out;
}

