import { writeFileSync } from 'node:fs';
import { meets, type Figure, type Target, type Unit } from './figures.js';

/**
 * The run's end: a table on stdout (figure, value, multiple of the baseline, target, met or
 * missed) and, with --json, every figure with the run's circumstances as JSON.
 */

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'per_s':
      return `${Math.round(value).toLocaleString('en-US')}/s`;
    case 'ms':
      return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} ms`;
    case 'mb':
      return `${value.toFixed(1)} MB`;
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    case 'pct':
      return `${Math.round(value)}%`;
    case 's':
      return `${value.toFixed(1)} s`;
  }
}

/** `0.07×`: a throughput as a multiple of the baseline. */
export function formatRatio(value: number, baselineTps: number | undefined): string {
  if (baselineTps === undefined || !(baselineTps > 0) || !Number.isFinite(value)) return '';
  const ratio = value / baselineTps;
  return `${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(1)}×`;
}

export function formatTarget(target: Target, unit: Unit): string {
  const op = target.op === '>=' ? '≥' : '≤';
  if (target.timesBaseline) return `${op} ${target.value.toFixed(1)}× baseline`;
  return `${op} ${formatValue(target.value, unit)}`;
}

/** A fixed-width table, one figure per row, then a line per fact that is not a number (the audit's verdict). */
export function formatTable(figures: readonly Figure[], baselineTps: number | undefined, extra: ReadonlyArray<readonly [string, string]> = []): string {
  const header = ['figure', 'value', '× baseline', 'target', ''];
  const rows = figures.map((figure) => {
    const met = meets(figure, baselineTps);
    return [
      figure.label,
      formatValue(figure.value, figure.unit),
      figure.throughput ? formatRatio(figure.value, baselineTps) : '',
      figure.target ? formatTarget(figure.target, figure.unit) : '',
      met === undefined ? (figure.target ? 'n/a' : '') : met ? 'met' : 'MISSED',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(line), ...extra.map(([label, text]) => `${label}: ${text}`)].join('\n');
}

/** Figures as `{ key: value }`, and each target with whether it was met. */
export function figuresJson(figures: readonly Figure[], baselineTps: number | undefined): {
  figures: Record<string, number | null>;
  targets: Record<string, { target: string; met: boolean | null }>;
} {
  const values: Record<string, number | null> = {};
  const targets: Record<string, { target: string; met: boolean | null }> = {};
  for (const figure of figures) {
    values[figure.key] = Number.isFinite(figure.value) ? figure.value : null;
    if (figure.target) targets[figure.key] = { target: formatTarget(figure.target, figure.unit), met: meets(figure, baselineTps) ?? null };
  }
  return { figures: values, targets };
}

export function writeJson(path: string, document: unknown): void {
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
}
