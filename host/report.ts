/** Text rendering of run results for terminals (CLI, npm start). Browser-safe. */
import type { RunResult } from './scenarios/contract.js';

export function verdictWord(r: RunResult): string {
  return r.verdict === 'reproduced' ? `REPRODUCED (${r.oracle})` : r.verdict === 'inconclusive' ? 'INCONCLUSIVE' : 'clean';
}

/** The verdict column of the summary table. */
function verdictCell(r: RunResult): string {
  return r.verdict === 'reproduced' ? 'REPRODUCED' : r.verdict === 'inconclusive' ? 'INCONCLUSIVE' : 'clean';
}

/** Results of one scenario, one column per run. */
export function sideBySide(results: RunResult[]): string {
  const rows: [string, ...string[]][] = [
    ['variant', ...results.map((r) => `${r.variant}${r.flavor === 'asan' ? ' (asan)' : ''}`)],
    ['verdict', ...results.map(verdictWord)],
    ['summary', ...results.map((r) => r.summary)],
    ['simulated', ...results.map((r) => formatUs(r.simulatedUs))],
    ['wall', ...results.map((r) => `${r.wallMs.toFixed(0)} ms`)],
    ['trace hash', ...results.map((r) => `${r.traceHash} (${r.traceEvents} events)`)],
  ];
  const first = results[0];
  const lines: string[] = [];
  if (first !== undefined) lines.push(`${first.scenario}  seed ${first.seed}  build ${first.build}`);
  const width = Math.max(...rows.map((r) => r[0].length));
  const colWidth = 58;
  for (const row of rows) {
    const cells = row.slice(1).map((c) => wrap(c, colWidth));
    const height = Math.max(...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) {
      const label = i === 0 ? row[0] : '';
      lines.push(`  ${label.padEnd(width)}  ${cells.map((c) => (c[i] ?? '').padEnd(colWidth)).join('  ').trimEnd()}`);
    }
  }
  for (const r of results) {
    const ev = evidenceLines(r);
    if (ev.length > 0) {
      lines.push('', `  evidence, ${r.variant}:`);
      for (const l of ev) lines.push(`    ${l}`);
    }
  }
  lines.push('', ...results.map((r) => `  replay: ${r.replay}`));
  return lines.join('\n');
}

/** The evidence's own human lines (scenarios put them under `lines`). */
function evidenceLines(r: RunResult): string[] {
  const l = r.evidence['lines'];
  return Array.isArray(l) ? l.map(String) : [];
}

/** The summary table of `npm start`: one row per scenario and variant. */
export function summaryTable(results: RunResult[]): string {
  const head = ['scenario', 'variant', 'seed', 'verdict', 'oracle', 'simulated', 'wall', 'evidence'];
  const rows = results.map((r) => [
    r.scenario,
    r.variant,
    String(r.seed),
    verdictCell(r),
    r.oracle,
    formatUs(r.simulatedUs),
    `${r.wallMs.toFixed(0)} ms`,
    r.summary,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (i === head.length - 1 ? 0 : row[i]!.length))));
  const fmt = (row: string[]): string => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

export function formatUs(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(3)} ms`;
  return `${us} µs`;
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  out.push(line);
  return out;
}
