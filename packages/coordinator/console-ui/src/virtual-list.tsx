/**
 * A list that renders only the rows in view (plus a few either side), so a deployment of 1,000
 * instances costs as many DOM rows as fit on the screen.
 */
import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { visibleRange } from './visible-range.js';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  /** The list's height in px; it scrolls past that. */
  height: number;
  row: (item: T, index: number) => ComponentChildren;
  label: string;
}

export function VirtualList<T>({ items, rowHeight, height, row, label }: VirtualListProps<T>) {
  const [top, setTop] = useState(0);
  const [first, last] = visibleRange(items.length, rowHeight, height, top);
  const shown = Math.min(height, items.length * rowHeight);
  return (
    <div class="vlist" role="list" aria-label={label} style={{ height: `${shown}px` }} onScroll={(e) => setTop((e.currentTarget as HTMLElement).scrollTop)}>
      <div style={{ height: `${items.length * rowHeight}px`, position: 'relative' }}>
        {items.slice(first, last).map((item, i) => (
          <div role="listitem" class="vrow" key={first + i} style={{ top: `${(first + i) * rowHeight}px`, height: `${rowHeight}px` }}>
            {row(item, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
