/** Test support: run a compiled entry point (dist/host/*.js) as a user does, with node. */
import { spawnSync } from 'node:child_process';

export interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A function that runs `node <script> ...args` and returns its exit status and output. */
export function nodeScript(script: string, timeoutMs: number): (...args: string[]) => ScriptRun {
  return (...args) => {
    const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}
