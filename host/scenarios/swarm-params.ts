/** The parameters of swarm faults (swarm.ts), without its code: the replays' info files list them. */
import type { ParamSpec, ParamValue } from './contract.js';

/** The two parameters every swarm-capable replay adds to its own. */
export function swarmParams(defaultCount = 8): ParamSpec[] {
  return [
    { name: 'faults', kind: 'enum', default: 'none', choices: ['none', 'swarm'], help: 'swarm: a fault menu drawn from the seed during a safety phase, then no faults for a liveness phase (docs/sweeps.md)' },
    { name: 'fault-count', kind: 'int', shrink: true, default: defaultCount, min: 1, max: 64, help: 'faults in the swarm menu (the first N drawn from the seed: fewer keeps a prefix)' },
  ];
}

export function swarmOn(params: Record<string, ParamValue>): boolean {
  return params['faults'] === 'swarm';
}
