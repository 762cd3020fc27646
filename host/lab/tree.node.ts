/**
 * Node-only: the source tree a lab grades. It is HEAD's wasm/ (git) with only the lab's student
 * files (docs/labs/student-files.txt) taken from the student's side; every other change the student
 * made is listed as ignored. The student's side is the work tree, or for the grader's own tests a
 * copy of HEAD with a patch applied.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export interface StudentFile {
  path: string;
  /** Only this function of the file is the student's (the rest stays HEAD's). */
  fn?: string;
}

/** Where the student's version of the files comes from. */
export interface StudentSide {
  /** Reads a file of the student's side (repository-relative), or undefined when it does not exist. */
  read(path: string): string | undefined;
  /** Repository-relative paths the student changed against HEAD. */
  changed: string[];
  /** What this side is, for messages ("your work tree", "wrong/always-wait.patch"). */
  name: string;
}

export interface LabTree {
  /** The tree to compile (holds wasm/). */
  dir: string;
  head: string;
  /** Student files that differ from HEAD and were taken. */
  taken: string[];
  /** Changed files outside the lab's student files, left at HEAD's version. */
  ignored: string[];
}

export function git(root: string, args: string[], input?: string): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8', input, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export function studentFiles(root: string, id: string): StudentFile[] {
  const text = readFileSync(join(root, 'docs/labs/student-files.txt'), 'utf8');
  const out: StudentFile[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const [lab, spec] = t.split(/\s+/);
    if (lab !== id || spec === undefined) continue;
    const [path, fn] = spec.split('#');
    out.push(fn === undefined ? { path: path! } : { path: path!, fn });
  }
  return out;
}

/** The span [from, to) of lines of C function `fn` (SPDK style: return type on the line before the
 *  name at column 0, body closed by a `}` at column 0, with the comment right above), or undefined. */
function fnSpan(lines: string[], fn: string): [number, number] | undefined {
  const at = lines.findIndex((l) => l.startsWith(`${fn}(`));
  if (at < 0) return undefined;
  const end = lines.findIndex((l, i) => i > at && l === '}');
  if (end < 0) return undefined;
  // The comment block right above belongs to the function.
  let from = at - 1;
  if (lines[from - 1]?.trimEnd().endsWith('*/')) {
    while (from > 0 && !lines[from - 1]!.trimStart().startsWith('/*')) from--;
    from--;
  }
  return [from, end + 1];
}

/** HEAD's file with function `fn` replaced by the student's version of it. */
export function spliceFunction(headText: string, studentText: string, fn: string): string {
  const h = headText.split('\n');
  const s = studentText.split('\n');
  const hs = fnSpan(h, fn);
  const ss = fnSpan(s, fn);
  if (hs === undefined || ss === undefined) return headText;
  return [...h.slice(0, hs[0]), ...s.slice(ss[0], ss[1]), ...h.slice(hs[1])].join('\n');
}

/** The work tree as the student's side. */
export function workTreeSide(root: string): StudentSide {
  const status = git(root, ['status', '--porcelain', '--untracked-files=all', '--', '.']);
  const changed = status.split('\n').filter((l) => l.length > 3).map((l) => l.slice(3).replace(/^.* -> /, ''));
  return {
    name: 'your work tree',
    changed,
    read: (p) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined),
  };
}

/** HEAD's files with `patchFile` applied (patch -p1), as the student's side. */
/** HEAD itself as the student's side (nothing changed). */
export function headSide(root: string): StudentSide {
  return { name: 'HEAD', changed: [], read: (p) => headFile(root, p) };
}

export function patchSide(root: string, patchFiles: string | string[]): StudentSide {
  const list = typeof patchFiles === 'string' ? [patchFiles] : patchFiles;
  const patchFile = list.map((f) => relative(root, f)).join(' + ');
  const text = list.map((f) => readFileSync(f, 'utf8')).join('\n');
  const changed = [...text.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]!);
  const dir = mkdtempSync(join(tmpdir(), 'spdk-lab-'));
  try {
    for (const p of changed) {
      const at = join(dir, p);
      mkdirSync(dirname(at), { recursive: true });
      const r = spawnSync('git', ['show', `HEAD:${p}`], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status === 0) writeFileSync(at, r.stdout);
    }
    const r = spawnSync('patch', ['-p1', '--batch', '--forward', '--quiet'], { cwd: dir, input: text, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${patchFile} does not apply to HEAD: ${r.stdout}${r.stderr}`);
    const files = new Map<string, string>();
    for (const p of changed) if (existsSync(join(dir, p))) files.set(p, readFileSync(join(dir, p), 'utf8'));
    return { name: patchFile, changed, read: (p) => files.get(p) ?? (changed.includes(p) ? undefined : headFile(root, p)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function headFile(root: string, path: string): string | undefined {
  const r = spawnSync('git', ['show', `HEAD:${path}`], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return r.status === 0 ? r.stdout : undefined;
}

/** HEAD's wasm/, extracted once per commit under build/lab/head/<commit>. */
function headTree(root: string, head: string): string {
  const dir = join(root, 'build/lab/head', head);
  if (existsSync(join(dir, '.done'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('git', ['archive', '--format=tar', head, 'wasm'], { cwd: root, maxBuffer: 512 << 20 });
  if (tar.status !== 0) throw new Error(`git archive ${head} wasm failed: ${tar.stderr.toString()}`);
  const x = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
  if (x.status !== 0) throw new Error(`tar -x failed: ${x.stderr.toString()}`);
  writeFileSync(join(dir, '.done'), head);
  return dir;
}

function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) listFiles(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

/** Writes `text` to `path` unless it already holds exactly that (object keys are content hashes,
 *  so unchanged files need no touching, but this keeps the tree's rewrite cheap). */
function put(path: string, text: string | Buffer): void {
  if (existsSync(path) && readFileSync(path).equals(Buffer.isBuffer(text) ? text : Buffer.from(text))) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Makes build/lab/<slot>/tree: HEAD's wasm/ with the lab's student files from `side`. */
export function prepareTree(root: string, id: string, side: StudentSide, slot = id): LabTree {
  const head = git(root, ['rev-parse', 'HEAD']).trim();
  const pristine = headTree(root, head);
  const dir = join(root, 'build/lab', slot, 'tree');
  const want = new Map<string, string | Buffer>();
  for (const f of listFiles(pristine)) if (f !== '.done') want.set(f, readFileSync(join(pristine, f)));
  const files = studentFiles(root, id);
  const taken: string[] = [];
  for (const f of files) {
    const mine = side.read(f.path);
    const theirs = want.get(f.path)?.toString();
    let text: string | undefined;
    if (f.fn !== undefined) text = mine === undefined || theirs === undefined ? theirs : spliceFunction(theirs, mine, f.fn);
    else text = mine;
    if (text === theirs) continue;
    taken.push(f.fn === undefined ? f.path : `${f.path} (${f.fn} only)`);
    if (text === undefined) want.delete(f.path);
    else want.set(f.path, text);
  }
  if (existsSync(join(dir, 'wasm'))) {
    for (const f of listFiles(dir)) if (!want.has(f)) rmSync(join(dir, f));
  }
  for (const [f, text] of want) put(join(dir, f), text);
  const own = new Set(files.map((f) => f.path));
  const ignored = side.changed.filter((p) => !own.has(p) && !p.startsWith('build/') && !p.startsWith('dist/'));
  // A function-level file: changes outside that function are ignored too.
  for (const f of files) {
    if (f.fn === undefined) continue;
    const mine = side.read(f.path);
    const theirs = headFile(root, f.path);
    if (mine !== undefined && theirs !== undefined && spliceFunction(theirs, mine, f.fn) !== mine) ignored.push(`${f.path} (outside ${f.fn})`);
  }
  return { dir, head, taken, ignored };
}
