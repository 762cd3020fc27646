/**
 * Entry of replay.html: starts the world's worker, reads the link and asks for its world at once,
 * so the variant is fetched, compiled and set up while the page's own code loads.
 */
import { WorldClient } from './client.js';
import { parseUrl, worldConfig } from './url-state.js';

const client = new WorldClient();
const link = parseUrl(location.search);
const started = client.api.start(worldConfig(link.state));
// main-replay awaits it and reports a failure; this keeps it from counting as unhandled meanwhile.
started.catch(() => {});
void import('./main-replay.js').then((m) => m.mount(client, link, started));
