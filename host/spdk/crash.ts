/** A machine that trapped, aborted, or reported an AddressSanitizer error: the `crash` oracle. */
export interface CrashReport {
  kind: 'asan' | 'abort' | 'trap';
  /** First line of the error (trap message, abort reason, or ASan summary line). */
  message: string;
  /** C function names on the stack, innermost first (from the wasm name section). */
  cStack: string[];
  /** The full AddressSanitizer report, when there is one. */
  asanReport?: string;
}

/** Thrown to the caller of a machine call after the machine crashed. */
export class MachineCrashed extends Error {
  constructor(readonly machine: string, readonly report: CrashReport) {
    super(`machine ${machine} crashed (${report.kind}): ${report.message}`);
  }
}

/** Builds a report from the thrown error and what the machine printed on stderr. */
export function crashReport(err: unknown, stderr: string[]): CrashReport {
  const e = err instanceof Error ? err : new Error(String(err));
  const asanStart = stderr.findIndex((l) => l.includes('ERROR: AddressSanitizer'));
  const cStack = wasmFrames(e.stack ?? '');
  if (asanStart >= 0) {
    const report = stderr.slice(asanStart).join('\n');
    const summary = stderr.find((l) => l.startsWith('SUMMARY: AddressSanitizer')) ?? stderr[asanStart]!;
    return { kind: 'asan', message: summary.trim(), cStack: cStack.length > 0 ? cStack : asanFrames(report), asanReport: report };
  }
  const kind = /Aborted|abort\(/.test(e.message) ? 'abort' : 'trap';
  return { kind, message: e.message.split('\n')[0] ?? e.message, cStack };
}

/** Function names from V8 frames of wasm code ("at name (wasm://wasm/...)"). */
function wasmFrames(stack: string): string[] {
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /at (?:[\w$.]*\.)?([\w$]+) \(wasm:\/\//.exec(line) ?? /at ([\w$]+) \(.*\.wasm/.exec(line);
    if (m !== null) out.push(m[1]!);
  }
  return out;
}

/** Frames named in an ASan report ("#0 0x... in name ..."). */
function asanFrames(report: string): string[] {
  const out: string[] = [];
  for (const m of report.matchAll(/#\d+ 0x[0-9a-f]+ in ([\w$.]+)/g)) out.push(m[1]!);
  return out;
}
