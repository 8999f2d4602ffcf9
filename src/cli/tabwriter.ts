// Go's text/tabwriter for the simple tables docker prints (top, info): cells end at '\t', the
// last cell of a line is not padded.
export function tabwrite(rows: string[][], minwidth: number, padding: number): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(c.length + padding, minwidth));
    });
  }
  return rows
    .map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join(''))
    .join('\n') + (rows.length ? '\n' : '');
}
