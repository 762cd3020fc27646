/** `node dist/bench/nvme-figure.js <name>`: one NVMe/TCP bench figure as JSON on stdout, in a
 *  process of its own (bench/nvme.ts runs one per figure). */
import { nvmeFigure } from './nvme.js';

const name = process.argv[2];
if (name === undefined) {
  process.stderr.write('usage: nvme-figure <randread4k.qd1|randread4k.qd32|write128k.qd1|write128k.qd32>\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await nvmeFigure(name))}\n`);
