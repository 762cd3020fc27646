/**
 * Page-side registry: a replay's views by scenario id (the generic view for the rest). Each
 * replay's views are their own chunk, so a page loads only its own.
 */
import { genericView } from './generic-view.js';
import type { ReplayViewFactory } from './view.js';

const VIEWS: Record<string, () => Promise<ReplayViewFactory>> = {
  'zcopy-threshold': () => import('./zcopy-threshold/view.js').then((m) => m.zcopyThresholdView),
  'sparse-backing-image': () => import('./sparse-backing-image/view.js').then((m) => m.sparseBackingImageView),
  'tcp-zcopy-disconnect': () => import('./tcp-zcopy-disconnect/view.js').then((m) => m.tcpZcopyDisconnectView),
};

export function viewFor(scenario: string): Promise<ReplayViewFactory> {
  return VIEWS[scenario]?.() ?? Promise.resolve(genericView);
}
