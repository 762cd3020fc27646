/**
 * The lab texts (docs/labs/*.md) and the graders' teaching strings (host/lab/specs.ts) speak only of
 * this repository: every path they name exists, every file name they name is a file here, every C
 * function they name is defined in wasm/, and every `npm run lab --` and `npx spdk-wasm run`
 * command they show parses (lab, command, knobs and values); the cheap ones are run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABS } from '../../../host/lab/specs.js';
import { studentFiles } from '../../../host/lab/tree.node.js';
import { findScenario } from '../../../host/scenarios/index.js';
import { resolveParams } from '../../../host/scenarios/params.js';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { nodeScript } from '../support/node-script.js';
import { trackedFiles } from './doc-refs.js';

const root = packageRoot();
const files = trackedFiles(root);
const names = new Set(files.map((f) => basename(f)));
const labDocs = readdirSync(join(root, 'docs/labs')).filter((f) => f.endsWith('.md')).map((f) => `docs/labs/${f}`);
const texts: [string, string][] = [
  ...labDocs.map((f): [string, string] => [f, readFileSync(join(root, f), 'utf8')]),
  ...Object.values(LABS).map((l): [string, string] => [`host/lab/specs.ts (${l.id})`, [...l.parts.map((p) => p.text), ...l.hints, ...l.learned].join('\n')]),
];
const TOP = /^(wasm|host|docs|test|spdk-patches|tools|bench)\//;
const OUTPUTS = /^(build|dist|node_modules)\//;
const wasmC = files.filter((f) => f.startsWith('wasm/') && /\.[ch]$/.test(f)).map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
const lab = nodeScript(join(root, 'dist/host/lab.js'), 30_000);

/** Backticked spans and the lines of fenced code blocks. */
function spans(text: string): string[] {
  const out = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) out.push(...m[1]!.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== ''));
  return out;
}

/** `a b --k v --flag` → positional words and flags (a flag followed by another flag or nothing is boolean). */
function parseArgs(words: string[]): { pos: string[]; flags: Map<string, string | true> } {
  const pos: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('--')) pos.push(w);
    else if (words[i + 1] !== undefined && !words[i + 1]!.startsWith('--')) flags.set(w.slice(2), words[++i]!);
    else flags.set(w.slice(2), true);
  }
  return { pos, flags };
}

const LAB_FLAGS = new Set(['seeds', 'verbose', 'json', 'show-fix', 'patch', 'seed', 'flavor', 'help']);
const CLI_FLAGS = new Set(['variant', 'seed', 'trace', 'json', 'help', 'expect', 'flavor', 'pcap']);

/** What is wrong with one command a lab shows, or undefined. */
function badCommand(cmd: string): string | undefined {
  const w = cmd.split(/\s+/);
  if (cmd.startsWith('npm run lab -- ')) {
    const { pos, flags } = parseArgs(w.slice(4));
    const [sub, id, n] = pos;
    if (!['check', 'run', 'parts', 'hint'].includes(sub ?? '')) return `unknown lab command "${sub}"`;
    const spec = id === undefined ? undefined : LABS[id];
    if (spec === undefined) return `unknown lab "${id}"`;
    if (sub === 'hint' && !(Number(n) >= 1 && Number(n) <= spec.hints.length)) return `hint ${n} does not exist (1..${spec.hints.length})`;
    const knobs: Record<string, string> = {};
    for (const [k, v] of flags) {
      if (LAB_FLAGS.has(k)) continue;
      if (sub !== 'run') return `--${k} is not a flag of ${sub}`;
      knobs[k] = String(v);
    }
    try {
      resolveParams(findScenario(id!), knobs);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  }
  if (cmd.startsWith('npx spdk-wasm run ')) {
    const { pos, flags } = parseArgs(w.slice(3));
    const knobs: Record<string, string> = {};
    for (const [k, v] of flags) if (!CLI_FLAGS.has(k)) knobs[k] = String(v);
    try {
      resolveParams(findScenario(pos[0] ?? ''), knobs);
    } catch (e) {
      return (e as Error).message;
    }
  }
  return undefined;
}

describe('the lab texts name only what exists here', () => {
  it.each(texts)('%s: every path and file name exists', (_file, text) => {
    const bad: string[] = [];
    for (const s of spans(text)) {
      for (const tok of s.split(/[\s(),]+/)) {
        const t = tok.replace(/[.:;]+$/, '').replace(/#.*$/, '');
        if (OUTPUTS.test(t) || t.includes('*') || t.includes('<')) continue;
        if (TOP.test(t)) {
          const p = t.replace(/\/$/, '');
          if (!files.some((f) => f === p || f.startsWith(`${p}/`))) bad.push(`${t}: no such path`);
        } else if (/^[\w.-]+\.(c|h|ts|md|rst|patch|mjs)$/.test(t) && !names.has(t)) bad.push(`${t}: no file of that name`);
      }
    }
    expect(bad).toEqual([]);
  });

  it.each(texts)('%s: every C function it introduces with its file is defined in wasm/', (_file, text) => {
    // A function introduced as **`name`** (`wasm/...`) or **`name`** (same file).
    const named = [...text.matchAll(/\*\*`([a-z_][a-z0-9_]+)`\*\*,?\s*(?:\(`[\w/.]+\.[ch]`|\(same file|\(`sock_module\.h`)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThanOrEqual(0);
    const missing = named.filter((n) => !new RegExp(`^\\w[^\\n]*\\b${n}\\(|^${n}\\(|#define ${n}\\b`, 'm').test(wasmC));
    expect(missing).toEqual([]);
  });

  it.each(texts)('%s: every lab and replay command parses', (_file, text) => {
    const bad = spans(text).filter((s) => (s.startsWith('npm run lab -- ') || s.startsWith('npx spdk-wasm run ')) && !s.includes('<')).map((c) => [c, badCommand(c)]).filter(([, b]) => b !== undefined);
    expect(bad).toEqual([]);
  });

  it('every student file of every lab exists', () => {
    for (const id of Object.keys(LABS)) {
      const list = studentFiles(root, id);
      expect(list.length, id).toBeGreaterThan(0);
      for (const f of list) {
        expect(files, `${id}: ${f.path}`).toContain(f.path);
        if (f.fn !== undefined) expect(readFileSync(join(root, f.path), 'utf8'), `${id}: ${f.path}#${f.fn}`).toMatch(new RegExp(`^${f.fn}\\(`, 'm'));
      }
    }
  });

  it.each(Object.keys(LABS))('%s: parts, every hint and --show-fix run', (id) => {
    const parts = lab('parts', id);
    expect(parts.status, parts.stderr).toBe(0);
    expect(parts.stdout).toMatch(/part 4, Defend/);
    for (let k = 1; k <= LABS[id]!.hints.length; k++) {
      const h = lab('hint', id, String(k));
      expect(h.status, h.stderr).toBe(0);
      expect(h.stdout).toContain(`hint ${k} of ${LABS[id]!.hints.length}`);
    }
    expect(lab('hint', id, String(LABS[id]!.hints.length + 1)).status).toBe(2);
    expect(lab('check', id, '--show-fix').status).toBe(0);
  });
});
