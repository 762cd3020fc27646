/** Node only: a fuzz worker thread (piscina): one share of the cases, on its own target machine
 *  (each share is an independent generator seed; the compiled module loads once per thread). */
import { runFuzz, type FuzzReport } from './fuzz-runner.node.js';
import type { Flavor } from '../spdk/variant.js';

export interface FuzzShare {
  seed: number;
  count: number;
  flavor: Flavor;
}

export default async function runShare(s: FuzzShare): Promise<FuzzReport> {
  return runFuzz(s.seed, s.count, { flavor: s.flavor });
}
