/** What the verbs stack needs of its machine's kernel (kernel.ts's Kernel has it all). Declared
 *  here so that rdma/ does not import kernel.ts, which holds the stack. */
import type { World } from '../../sim/world.js';
import type { NetDev } from '../../net/netdev.js';
import type { KernelFile } from '../kernel-file.js';

export interface RdmaKernel {
  readonly world: World;
  readonly machine: string;
  /** The machine's linear memory, where memory regions live. */
  readonly memory: { bytes(): Uint8Array };
  touched: boolean;
  /** Set to the stack when it is made. */
  rdma: unknown;
  dev(name: string): NetDev;
  /** The machine's interfaces (HostKernel.ifaddrs; spelled out, host-kernel.ts imports rdma/). */
  ifaddrs(): { name: string; addr: string; flags: number }[];
  openFile(file: KernelFile): number;
  close(fd: number): number;
}
