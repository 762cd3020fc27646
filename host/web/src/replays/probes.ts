/** Worker-side registry: a replay's probe by scenario id (keeps DOM code out of the worker). */
import { genericProbe, type ReplayProbe } from './probe.js';
import { sparseBackingImageProbe } from './sparse-backing-image/probe.js';
import { tcpZcopyDisconnectProbe } from './tcp-zcopy-disconnect/probe.js';
import { zcopyThresholdProbe } from './zcopy-threshold/probe.js';

const PROBES: Record<string, () => ReplayProbe> = {
  'zcopy-threshold': zcopyThresholdProbe,
  'sparse-backing-image': sparseBackingImageProbe,
  'tcp-zcopy-disconnect': tcpZcopyDisconnectProbe,
};

export function probeFor(scenario: string): ReplayProbe {
  return (PROBES[scenario] ?? genericProbe)();
}
