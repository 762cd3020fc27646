/**
 * Entry of replay.html: starts the world's worker, reads the link and asks for its world and its
 * first step at once, so the variant is fetched, compiled and set up while the page's own code loads.
 */
import { WorldClient } from './client.js';
import { parseUrl, worldConfig } from './url-state.js';

const client = new WorldClient();
const link = parseUrl(location.search);
const started = client.api.start(worldConfig(link.state));
// The worker takes the first step as soon as the world is up (it waits for the start).
const firstStep = client.api.step({ kind: 'time', sliceUs: 0 });
// main-replay awaits both and reports a failure; this keeps them from counting as unhandled meanwhile.
started.catch(() => {});
firstStep.catch(() => {});
void import('./main-replay.js').then((m) => m.mount(client, link, { started, firstStep }));
