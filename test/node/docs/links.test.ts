/**
 * The project stands on its own: no file outside the tests refers to the folder beside the
 * repository (`shared/`), every `docs/` path any file names exists, and every relative link of
 * README.md and docs/**.md resolves. The checks are also run on known-bad text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../host/spdk/node-loader.js';
import { brokenRefs, docsPaths, isText, markdownLinks, outsideRefs, trackedFiles } from './doc-refs.js';

const root = packageRoot();
/** .ci/run runs the copy check beside the repository when the CI machine has it (and only then). */
const MAY_NAME_SHARED = new Set(['.ci/run']);
/** This file names missing paths on purpose (the known-bad samples below). */
const SELF = 'test/node/docs/links.test.ts';

describe('references stay inside the repository', () => {
  const files = trackedFiles(root).filter((f) => isText(join(root, f)));

  it('finds the files to check', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/architecture.md');
    expect(files.some((f) => f.startsWith('host/'))).toBe(true);
  });

  it('no file outside test/ names shared/ or ../shared/', () => {
    const bad = files.filter((f) => !f.startsWith('test/') && !MAY_NAME_SHARED.has(f))
      .flatMap((f) => outsideRefs(readFileSync(join(root, f), 'utf8')).map((l) => `${f}: ${l}`));
    expect(bad).toEqual([]);
  });

  it('every docs/ path named anywhere, and every relative link in Markdown, exists', () => {
    const bad = files.filter((f) => f !== SELF).flatMap((f) => brokenRefs(root, f, readFileSync(join(root, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('every replay has its bug page, linked from docs/bugs/README.md', async () => {
    const { CATALOG } = await import('../../../host/scenarios/catalog.js');
    const index = readFileSync(join(root, 'docs/bugs/README.md'), 'utf8');
    for (const s of CATALOG) {
      expect(s.bugDoc).toBe(`docs/bugs/${s.id}.md`);
      expect(brokenRefs(root, 'x', s.bugDoc)).toEqual([]);
      expect(markdownLinks(index)).toContain(`${s.id}.md`);
    }
  });
});

describe('the reference checks catch what they are for', () => {
  it.each([
    ['Seed:     shared/seeds/000_x.txt', 1],
    ['see `../shared/spec/sock-zcopy.md` §3', 1],
    ['Departures from ../../shared/design/ARCHITECTURE.md', 1],
    ['host/net/shared-memory.ts and docs/bugs/x.md', 0],
    ['a shared/ buffer (no path after it)', 0],
    ['tools in shared/tools/copycheck.py', 1],
  ])('%j: %i outside reference(s)', (text, n) => {
    expect(outsideRefs(text)).toHaveLength(n);
  });

  it('a docs path or a Markdown link that does not exist is reported; an existing one and a URL are not', () => {
    const exists = (p: string): boolean => ['docs/bugs/zcopy-threshold.md', 'docs/labs', 'README.md'].includes(p);
    expect(docsPaths('see docs/labs/, docs/bugs/zcopy-threshold.md.')).toEqual(['docs/labs/', 'docs/bugs/zcopy-threshold.md']);
    expect(brokenRefs(root, 'docs/bugs/README.md', '[a](zcopy-threshold.md) [b](https://github.com/spdk/spdk/issues/3610) [c](#x) [d](../../README.md)', exists)).toEqual([]);
    expect(brokenRefs(root, 'docs/bugs/README.md', '[a](rdma-ifdown.md#why)', exists)).toEqual(['docs/bugs/README.md: links to rdma-ifdown.md (docs/bugs/rdma-ifdown.md), which does not exist in the repository']);
    expect(brokenRefs(root, 'README.md', '[up](../shared/spec/x.md)', () => true)).toHaveLength(1);
    expect(brokenRefs(root, 'host/cli.ts', 'bug docs/bugs/nope.md', exists)).toEqual(['host/cli.ts: names docs/bugs/nope.md, which does not exist']);
  });
});
