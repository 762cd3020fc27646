/** A replay's parameters as help lines (`spdk-wasm list`, `run <id> --help`, the lab's `run <id> --help`). */
import type { ParamSpec, ScenarioInfo } from './contract.js';

function range(p: ParamSpec): string {
  if (p.kind === 'int') return ` [${p.min ?? ''}..${p.max ?? ''}]`;
  if (p.kind === 'enum') return ` {${p.choices!.join('|')}}`;
  return ' {true|false}';
}

/** One line per parameter: flag, default, range or choices, what it does. */
export function paramHelp(s: ScenarioInfo): string[] {
  return s.params.map((p) => `--${p.name} (default ${String(p.default)})${range(p)}  ${p.help}`);
}
