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
export function crashReport(err: unknown, stderr: string[], reportStack?: string): CrashReport {
  const e = err instanceof Error ? err : new Error(describe(err));
  const asanStart = stderr.findIndex((l) => l.includes('ERROR: AddressSanitizer'));
  const cStack = wasmFrames(reportStack ?? e.stack ?? '');
  if (asanStart >= 0) {
    const report = stderr.slice(asanStart).join('\n');
    const summary = stderr.find((l) => l.startsWith('SUMMARY: AddressSanitizer')) ?? stderr[asanStart]!;
    // V8's stack of the abort that follows the report holds the faulting C frames; the report's
    // own access stack is often one frame deep under emscripten, so it is the fallback.
    const own = cStack.filter((f) => !isSanitizerFrame(f));
    const frames = own.length > 0 ? own : asanFrames(report);
    const what = /AddressSanitizer: ([\w-]+)/.exec(summary)?.[1] ?? 'error';
    const access = stderr.slice(asanStart + 1).find((l) => /^(READ|WRITE) of size/.test(l))?.replace(/ at 0x.*$/, '');
    const message = `AddressSanitizer: ${what}${access !== undefined ? `, ${access}` : ''}${frames[0] !== undefined ? ` in ${frames[0]}` : ''}`;
    return { kind: 'asan', message, cStack: frames, asanReport: report };
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

/** C frames of the faulting access in an ASan report ("#0 0x... in name+0x..."): the first stack
 *  only, without the sanitizer's own frames and the JavaScript frames below the wasm entry. */
function asanFrames(report: string): string[] {
  const first = report.split(/\n\s*\n/)[0] ?? '';
  const out: string[] = [];
  for (const m of first.matchAll(/#\d+ 0x[0-9a-f]+ in ([\w$.:]+)/g)) {
    const name = m[1]!;
    if (isSanitizerFrame(name) || name.includes('.')) continue;
    out.push(name);
  }
  return out;
}

function isSanitizerFrame(name: string): boolean {
  return /^(__asan|__sanitizer|__interceptor|emscripten_|abort$|_abort$)/.test(name);
}

/** Emscripten's exit path throws non-Error values (ExitStatus objects, numbers). */
function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'status' in err) return `exit(${String((err as { status: unknown }).status)})`;
  return String(err);
}
