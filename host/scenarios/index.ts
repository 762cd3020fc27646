import type { Scenario } from './contract.js';
import { UsageError } from './params.js';
import { zcopyThreshold } from './zcopy-threshold.js';
import { sparseBackingImage } from './sparse-backing-image.js';
import { tcpZcopyDisconnect } from './tcp-zcopy-disconnect.js';

/** Every replay, by stable id (ARCHITECTURE "The five replays"). */
export const SCENARIOS: readonly Scenario[] = [zcopyThreshold, sparseBackingImage, tcpZcopyDisconnect];

export function findScenario(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (s === undefined) throw new UsageError(`unknown scenario "${id}" (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
  return s;
}
