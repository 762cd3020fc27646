/** Page-side registry: a replay's views by scenario id (the generic view for the rest). */
import { genericView } from './generic-view.js';
import { sparseBackingImageView } from './sparse-backing-image/view.js';
import type { ReplayViewFactory } from './view.js';
import { tcpZcopyDisconnectView } from './tcp-zcopy-disconnect/view.js';
import { zcopyThresholdView } from './zcopy-threshold/view.js';

const VIEWS: Record<string, ReplayViewFactory> = {
  'zcopy-threshold': zcopyThresholdView,
  'sparse-backing-image': sparseBackingImageView,
  'tcp-zcopy-disconnect': tcpZcopyDisconnectView,
};

export function viewFor(scenario: string): ReplayViewFactory {
  return VIEWS[scenario] ?? genericView;
}
