/** Test support: what the project's text files refer to — paths outside the repository, `docs/`
 *  paths, and relative Markdown links — and which of those do not exist. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** Files under version control (git ls-files), or every file outside build outputs without git. */
export function trackedFiles(root: string): string[] {
  const r = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  if (r.status === 0 && r.stdout !== '') return r.stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      if (['.git', 'node_modules', 'build', 'dist'].includes(name)) continue;
      const p = dir === '' ? name : `${dir}/${name}`;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out;
}

/** Mentions of the folder beside the repository (`shared/...`, `../shared/...`), one per line. */
export function outsideRefs(text: string): string[] {
  return text.split('\n').filter((l) => /(^|[^\w/-])(\.\.\/)*shared\/\w/.test(l)).map((l) => l.trim());
}

/** `docs/...` paths a file names (up to the first character that cannot be part of a path). */
export function docsPaths(text: string): string[] {
  return [...text.matchAll(/(?<![\w/.-])docs\/[\w./-]*/g)].map((m) => m[0].replace(/[.]+$/, ''));
}

/** Relative targets of Markdown links `[text](target)`, without their `#anchor`. */
export function markdownLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^([a-z]+:|#)/i.test(t))
    .map((t) => t.replace(/#.*$/, ''));
}

/** Every broken reference of `file` (repository-relative), as "file: what". */
export function brokenRefs(root: string, file: string, text: string, exists: (p: string) => boolean = (p) => existsSync(join(root, p))): string[] {
  const bad: string[] = [];
  for (const p of docsPaths(text)) if (!exists(p)) bad.push(`${file}: names ${p}, which does not exist`);
  if (file.endsWith('.md')) {
    for (const t of markdownLinks(text)) {
      const target = normalize(join(dirname(file), t));
      if (target.startsWith('..') || !exists(target)) bad.push(`${file}: links to ${t} (${relative('.', target)}), which does not exist in the repository`);
    }
  }
  return bad;
}

/** Text files worth reading (not binaries, not the lock file). */
export function isText(file: string): boolean {
  return !/\.(wasm|png|gz|pcap)$/.test(file) && file !== 'package-lock.json' && !readFileSync(file).includes(0);
}
