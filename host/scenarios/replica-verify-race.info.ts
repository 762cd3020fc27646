/** replica-verify-race (seed 004) without its run code: id, fix and knobs. */
import type { ParamSpec, ScenarioInfo } from './contract.js';

const PARAMS: readonly ParamSpec[] = [
  { name: 'bug', kind: 'enum', default: '9953', choices: ['9953', '13074'], help: '9953: ReplicaCreate vs verify (fix PR #288); 13074: verify unlocked during its SPDK calls vs ReplicaDelete+ReplicaCreate (fix PR #516)' },
  { name: 'search', kind: 'enum', default: 'exhaustive', choices: ['exhaustive', 'random'], help: 'every schedule up to the preemption bound, or random schedules by seed' },
  { name: 'bound', kind: 'int', default: 2, min: 0, max: 3, help: 'exhaustive: most preemptions per schedule' },
  { name: 'reduction', kind: 'enum', default: 'sleep-sets', choices: ['sleep-sets', 'none'], help: 'exhaustive: partial-order reduction (sleep sets) or the plain search' },
  { name: 'runs', kind: 'int', default: 200, min: 1, max: 2000, help: 'random: schedules to try (seeds seed, seed+1, ...)' },
];

export const replicaVerifyRaceInfo: ScenarioInfo = {
  id: 'replica-verify-race',
  title: 'verify() drops a replica that is being created (Longhorn SPDK engine replicaMap race)',
  bugDoc: 'docs/bugs/replica-verify-race.md',
  fix: 'longhorn-spdk-engine PR #288, b789d730 (longhorn#9953); PR #516, d85f82bf (longhorn#13074)',
  oracle: 'safety',
  params: PARAMS,
};
