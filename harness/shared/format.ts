// Durations for people: one formatter for tables, reports and chart axes.

/** ns → a short human figure (`12.3µs`, `4.56ms`); `coarse` drops a digit, for chart axes. */
export function formatNs(v: number, coarse = false): string {
  const d = coarse ? 1 : 2;
  if (v >= 1e9) return `${(v / 1e9).toFixed(d)}s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(d)}ms`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(d - 1)}µs`;
  return `${Math.round(v)}ns`;
}
