/** The page's handle on the world's worker. `restart()` replaces a worker that died or hangs. */
import * as Comlink from 'comlink';
import type { DemoWorker } from './protocol.js';

export class WorldClient {
  private worker!: Worker;
  api!: Comlink.Remote<DemoWorker>;
  /** Set when the worker itself failed (not a verdict: a load error, an uncaught exception). */
  onFatal: ((message: string) => void) | undefined;

  constructor() {
    this.spawn();
  }

  private spawn(): void {
    this.worker = new Worker(new URL('../worker.ts', import.meta.url), { type: 'module', name: 'spdk-wasm world' });
    this.worker.addEventListener('error', (ev) => this.onFatal?.(`the world's worker failed: ${ev.message || 'could not load'}`));
    this.api = Comlink.wrap<DemoWorker>(this.worker);
  }

  restart(): void {
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
    this.spawn();
  }
}
