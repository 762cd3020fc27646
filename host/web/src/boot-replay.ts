/**
 * Entry of replay.html: starts the world's worker first and has it fetch and compile the variant
 * the link names, so both load while the page's code does (main-replay reports bad links).
 */
import { isFlavor, isVariant } from '../../spdk/variant.js';
import { WorldClient } from './client.js';

const client = new WorldClient();
const q = new URLSearchParams(location.search);
const variant = q.get('variant') ?? 'unpatched';
const flavor = q.get('flavor') ?? 'release';
if (isVariant(variant) && isFlavor(flavor)) void client.api.preload(new URL('wasm/', location.href).href, variant, flavor);
void import('./main-replay.js').then((m) => m.mount(client));
