/** Which rows of a virtualised list to render (virtual-list.tsx), as a pure function. */

/** visibleRange is the first and past-last index to render for a scroll position, `overscan` rows either side. */
export function visibleRange(count: number, rowHeight: number, height: number, scrollTop: number, overscan = 5): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return [first, last];
}

