import { findInfo } from './catalog.js';
import type { Scenario } from './contract.js';
import { zcopyThreshold } from './zcopy-threshold.js';
import { sparseBackingImage } from './sparse-backing-image.js';
import { tcpZcopyDisconnect } from './tcp-zcopy-disconnect.js';
import { replicaVerifyRace } from './replica-verify-race.js';

/** Every replay, by stable id (docs/bugs/README.md); catalog.ts lists their metadata. */
export const SCENARIOS: readonly Scenario[] = [zcopyThreshold, sparseBackingImage, tcpZcopyDisconnect, replicaVerifyRace];

export function findScenario(id: string): Scenario {
  const info = findInfo(id);
  const s = SCENARIOS.find((x) => x.id === info.id);
  if (s === undefined) throw new Error(`scenario ${id} is in the catalog but not in SCENARIOS`);
  return s;
}
