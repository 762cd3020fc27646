/**
 * Node-only: compiles a lab's tree one object file at a time with the flags of build.sh, keeping
 * every object under build/lab/obj/<flavor>/ by a hash of its inputs (the source, the headers its
 * last compile read, the flags). A second check after a one-line change recompiles that file and
 * links; different trees (labs, the grader's fixtures) share the objects they have in common.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Flavor } from '../spdk/variant.js';

export interface Flags {
  cflags: string[];
  ldflags: string[];
  release: string[];
  asan: string[];
}

let flagsCache: Flags | undefined;

/** build.sh's emcc flags (`bash build.sh --print-flags`): one place says how the C is built. */
export function buildFlags(root: string): Flags {
  if (flagsCache !== undefined) return flagsCache;
  const r = spawnSync('bash', [join(root, 'build.sh'), '--print-flags'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build.sh --print-flags failed: ${r.stderr}`);
  const f: Record<string, string[]> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [k, ...v] = line.split(' ');
    f[k!] = v;
  }
  flagsCache = { cflags: f['cflags'] ?? [], ldflags: f['ldflags'] ?? [], release: f['release'] ?? [], asan: f['asan'] ?? [] };
  return flagsCache;
}

/** Flavor flags that matter when compiling (the -s settings and --profiling-funcs are link-time). */
const compileOnly = (flags: string[]): string[] => flags.filter((x) => !x.startsWith('-s') && x !== '--profiling-funcs');

export interface CompileResult {
  /** build/lab/<id>/out/<flavor>: spdk.wasm, spdk.mjs, build.id. */
  dir: string;
  compiled: string[];
  reused: number;
  linked: boolean;
  ms: number;
}

export class CompileError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
  }
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

function cSources(tree: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.c')) out.push(relative(tree, p));
    }
  };
  walk(join(tree, 'wasm'));
  return out.filter((p) => p !== 'wasm/port/abi_dump.c').sort();
}

/** Dependencies listed by a make-style .d file (emcc -MMD), relative to the tree. */
function parseDeps(text: string, tree: string): string[] {
  const body = text.replace(/\\\n/g, ' ').replace(/^[^:]*:/, '');
  return body.split(/\s+/).filter((x) => x !== '').map((p) => (p.startsWith('/') ? relative(tree, p) : p)).sort();
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, NODE_PATH: process.env['NODE_PATH'] ?? '/usr/share/nodejs' } });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Warnings fail the build, as in build.sh. */
const WARNING = /warning: .*\[-W/;

export async function compileTree(root: string, tree: string, outDir: string, flavor: Flavor, jobs = 2): Promise<CompileResult> {
  const t0 = performance.now();
  const flags = buildFlags(root);
  const flavorFlags = flavor === 'release' ? flags.release : flags.asan;
  const cflags = [...flags.cflags, ...compileOnly(flavorFlags)];
  const objDir = join(root, 'build/lab/obj', flavor);
  mkdirSync(join(objDir, 'deps'), { recursive: true });
  const content = new Map<string, string>();
  const hashOf = (p: string): string => {
    let h = content.get(p);
    if (h === undefined) {
      h = existsSync(join(tree, p)) ? sha(readFileSync(join(tree, p))) : 'missing';
      content.set(p, h);
    }
    return h;
  };
  const depsFile = (src: string): string => join(objDir, 'deps', `${src.replace(/\//g, '__')}.json`);
  const keyOf = (src: string): string | undefined => {
    const f = depsFile(src);
    if (!existsSync(f)) return undefined;
    const deps = JSON.parse(readFileSync(f, 'utf8')) as string[];
    return sha([cflags.join(' '), src, hashOf(src), ...deps.map((d) => `${d} ${hashOf(d)}`)].join('\n'));
  };
  const sources = cSources(tree);
  const objects = new Map<string, string>();
  const todo: string[] = [];
  for (const src of sources) {
    const key = keyOf(src);
    if (key !== undefined && existsSync(join(objDir, `${key}.o`))) objects.set(src, join(objDir, `${key}.o`));
    else todo.push(src);
  }
  const errors: string[] = [];
  const one = async (src: string): Promise<void> => {
    const tmp = join(objDir, `tmp-${sha(tree + src).slice(0, 12)}`);
    const r = await run('emcc', [...cflags, '-c', src, '-o', `${tmp}.o`, '-MMD', '-MF', `${tmp}.d`], tree);
    if (r.code !== 0 || WARNING.test(r.out)) {
      errors.push(`${src}:\n${r.out.trim()}`);
      return;
    }
    writeFileSync(depsFile(src), JSON.stringify(parseDeps(readFileSync(`${tmp}.d`, 'utf8'), tree).filter((d) => d !== src)));
    rmSync(`${tmp}.d`, { force: true });
    const key = keyOf(src)!;
    renameSync(`${tmp}.o`, join(objDir, `${key}.o`));
    objects.set(src, join(objDir, `${key}.o`));
  };
  const queue = [...todo];
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) await one(s);
  }));
  if (errors.length > 0) throw new CompileError(`the ${flavor} build failed (${errors.length} file(s))`, errors.join('\n\n'));

  const objs = sources.map((s) => objects.get(s)!);
  const linkKey = sha([...flags.ldflags, ...flavorFlags, ...objs].join('\n')).slice(0, 16);
  mkdirSync(outDir, { recursive: true });
  let linked = false;
  if (!existsSync(join(outDir, 'build.id')) || readFileSync(join(outDir, 'build.id'), 'utf8').trim() !== `lab-${linkKey}`) {
    const tmpOut = `${outDir}.tmp`;
    rmSync(tmpOut, { recursive: true, force: true });
    mkdirSync(tmpOut, { recursive: true });
    const r = await run('emcc', [...flags.cflags, ...flags.ldflags, ...flavorFlags, ...objs, '-o', join(tmpOut, 'spdk.mjs')], tree);
    const undef = r.out.split('\n').filter((l) => /undefined symbol: /.test(l) && !/undefined symbol: host_/.test(l));
    if (r.code !== 0 || undef.length > 0 || WARNING.test(r.out)) throw new CompileError(`linking the ${flavor} build failed`, r.out.trim());
    writeFileSync(join(tmpOut, 'build.id'), `lab-${linkKey}\n`);
    for (const f of ['spdk.wasm', 'spdk.mjs', 'build.id']) copyFileSync(join(tmpOut, f), join(outDir, f));
    rmSync(tmpOut, { recursive: true, force: true });
    linked = true;
  }
  return { dir: outDir, compiled: todo, reused: sources.length - todo.length, linked, ms: performance.now() - t0 };
}
