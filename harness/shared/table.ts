// Plain-text tables for terminals, summaries and benchmark reports.

/**
 * Pads columns to a common width. Columns from `rightFrom` on are
 * right-aligned (numbers); otherwise the last column is left unpadded.
 */
export function formatTable(rows: readonly (readonly string[])[], opts: { gap?: number; rightFrom?: number } = {}): string {
  const gap = ' '.repeat(opts.gap ?? 2);
  const rightFrom = opts.rightFrom ?? Infinity;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const pad = (cell: string, i: number, last: boolean): string => {
    const w = widths[i] ?? 0;
    if (i >= rightFrom) return cell.padStart(w);
    return last ? cell : cell.padEnd(w);
  };
  return rows
    .map((row) =>
      row
        .map((cell, i) => pad(cell, i, i === row.length - 1))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}
