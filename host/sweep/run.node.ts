/**
 * Node only: runs a planned sweep on a pool of worker threads (piscina), appending one record per
 * finished run to the results file as it comes, with a progress bar on a terminal (cli-progress)
 * or a plain line every few seconds otherwise. `resume` skips the jobs the file already holds
 * (after checking it comes from the same build); Ctrl-C stops handing out work, lets the runs in
 * flight finish and keeps everything that finished.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import { Piscina } from 'piscina';
import { UsageError } from '../scenarios/params.js';
import { loadVariant } from '../spdk/node-loader.js';
import type { SweepJob } from './plan.js';
import { checkBuilds, parseRecords, type SweepRecord } from './record.js';

export interface SweepRunOptions {
  jobs: readonly SweepJob[];
  workers: number;
  /** The results file (JSON Lines); without it records are only kept in memory. */
  out?: string;
  resume: boolean;
  /** Where progress goes (stderr); `tty` picks the bar over plain lines. */
  progress: { write(s: string): void; tty: boolean };
}

export interface SweepRunResult {
  /** The records of every planned job that finished: resumed ones and this run's. */
  records: SweepRecord[];
  ran: number;
  resumed: number;
  interrupted: boolean;
  wallMs: number;
}

/** Checks the results file before anything runs: never overwrite, resume only the same build. */
async function previousRecords(opts: SweepRunOptions): Promise<SweepRecord[]> {
  if (opts.out === undefined) {
    if (opts.resume) throw new UsageError('--resume needs --out FILE (the results to continue)');
    return [];
  }
  if (!existsSync(opts.out)) {
    if (opts.resume) throw new UsageError(`--resume: ${opts.out} does not exist`);
    appendFileSync(opts.out, ''); // fails now, with one line, if the path cannot be written
    return [];
  }
  if (!opts.resume) throw new UsageError(`${opts.out} exists; give --resume to continue it, or another --out (nothing was overwritten)`);
  const records = parseRecords(readFileSync(opts.out, 'utf8'), opts.out);
  const current = new Map<string, string>();
  for (const v of new Set(opts.jobs.map((j) => j.variant))) current.set(v, (await loadVariant(v)).buildId);
  checkBuilds(records, current, `${opts.out} and this build`);
  return records;
}

export async function runSweep(opts: SweepRunOptions): Promise<SweepRunResult> {
  const t0 = performance.now();
  const previous = await previousRecords(opts);
  const planned = new Set(opts.jobs.map((j) => j.key));
  const done = new Map(previous.filter((r) => planned.has(r.key)).map((r) => [r.key, r]));
  const todo = opts.jobs.filter((j) => !done.has(j.key));
  const records: SweepRecord[] = [...done.values()];
  const progress = makeProgress(opts, opts.jobs.length, done.size);

  let stopping = false;
  const onSigint = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    opts.progress.write('\nsweep: stopping after the runs in flight (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  const pool = new Piscina({
    filename: new URL('./pool-worker.node.js', import.meta.url).href,
    minThreads: opts.workers,
    maxThreads: opts.workers,
    idleTimeout: 1000,
  });
  let next = 0;
  let ran = 0;
  const lane = async (): Promise<void> => {
    while (!stopping && next < todo.length) {
      const job = todo[next++]!;
      const r = (await pool.run(job)) as SweepRecord;
      if (opts.out !== undefined) appendFileSync(opts.out, `${JSON.stringify(r)}\n`);
      records.push(r);
      ran++;
      progress.tick(r);
    }
  };
  try {
    // Two jobs in flight per worker keep every thread busy without queueing the whole plan.
    await Promise.all(Array.from({ length: Math.max(1, opts.workers * 2) }, lane));
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
    await pool.destroy();
  }
  records.sort((a, b) => a.index - b.index);
  return { records, ran, resumed: done.size, interrupted: stopping && ran + done.size < opts.jobs.length, wallMs: performance.now() - t0 };
}

interface Progress {
  tick(r: SweepRecord): void;
  stop(): void;
}

function makeProgress(opts: SweepRunOptions, total: number, start: number): Progress {
  let reproduced = 0;
  let errors = 0;
  let count = start;
  if (opts.progress.tty) {
    const bar = new SingleBar({
      format: 'sweep [{bar}] {value}/{total} runs | {percentage}% | ETA {eta_formatted} | {reproduced} reproduced, {errors} errors',
      stream: process.stderr,
      hideCursor: true,
    });
    bar.start(total, start, { reproduced, errors });
    return {
      tick(r) {
        if (r.verdict === 'reproduced') reproduced++;
        if (r.verdict === 'error') errors++;
        bar.increment(1, { reproduced, errors });
      },
      stop: () => bar.stop(),
    };
  }
  const t0 = performance.now();
  let last = t0;
  const line = (): void => {
    const s = (performance.now() - t0) / 1000;
    opts.progress.write(`sweep: ${count}/${total} runs (${Math.floor((100 * count) / Math.max(1, total))} %), ${reproduced} reproduced, ${errors} errors, ${s.toFixed(1)} s\n`);
  };
  return {
    tick(r) {
      count++;
      if (r.verdict === 'reproduced') reproduced++;
      if (r.verdict === 'error') errors++;
      const now = performance.now();
      if (now - last >= 5000) {
        last = now;
        line();
      }
    },
    stop: line,
  };
}
