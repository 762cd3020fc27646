/**
 * Every replay's metadata without its run code, in the order of SCENARIOS (index.ts): what a
 * browser page's main thread needs for its index, controls and URL, while the world's worker
 * loads the run code.
 */
import type { ScenarioInfo } from './contract.js';
import { UsageError } from './params.js';
import { sparseBackingImageInfo } from './sparse-backing-image.info.js';
import { tcpZcopyDisconnectInfo } from './tcp-zcopy-disconnect.info.js';
import { zcopyThresholdInfo } from './zcopy-threshold.info.js';
import { replicaVerifyRaceInfo } from './replica-verify-race.info.js';

export const CATALOG: readonly ScenarioInfo[] = [zcopyThresholdInfo, sparseBackingImageInfo, tcpZcopyDisconnectInfo, replicaVerifyRaceInfo];

export function findInfo(id: string): ScenarioInfo {
  const s = CATALOG.find((x) => x.id === id);
  if (s === undefined) throw new UsageError(`unknown scenario "${id}" (known: ${CATALOG.map((x) => x.id).join(', ')})`);
  return s;
}
