/**
 * Aligned text columns for the list commands: a header row, then one row per item; every column
 * but the last is padded to its widest cell, two spaces apart.
 */

/** formatTable lays out `header` and `rows`; trailing blanks are trimmed. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const layout = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [layout(header), ...rows.map(layout)];
}
