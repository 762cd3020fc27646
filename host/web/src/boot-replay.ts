/** Entry of replay.html: starts the world's worker first, so it loads while the page's code does. */
import { WorldClient } from './client.js';

const client = new WorldClient();
void import('./main-replay.js').then((m) => m.mount(client));
