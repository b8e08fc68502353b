/**
 * A shifting deployment's traffic weights over time, for the small chart: the points the stream
 * sent (`traffic` messages: the replacement's weight in %, at epoch ms) drawn as an SVG polyline.
 */

/** WeightPoint is one step: the replacement had `weight` % from `at` (epoch ms) on. */
export interface WeightPoint {
  at: number;
  weight: number;
}

/** addPoint keeps a deployment's points in time order, one per time (a repeat replaces). */
export function addPoint(points: readonly WeightPoint[], p: WeightPoint): WeightPoint[] {
  const next = points.filter((q) => q.at !== p.at);
  next.push(p);
  next.sort((a, b) => a.at - b.at);
  return next;
}

/**
 * stepPolyline is the `points` attribute of a polyline in a `width`×`height` box: weight 0 at the
 * bottom, 100 at the top, time from the first point to `until`. Weights hold until the next step,
 * so the line is a staircase. Empty for no points.
 */
export function stepPolyline(points: readonly WeightPoint[], width: number, height: number, until: number): string {
  if (points.length === 0) return '';
  const t0 = points[0]!.at;
  const span = Math.max(1, until - t0);
  const x = (t: number): number => Math.round(((t - t0) / span) * width * 10) / 10;
  const y = (w: number): number => Math.round((1 - Math.min(100, Math.max(0, w)) / 100) * height * 10) / 10;
  const out: string[] = [];
  points.forEach((p, i) => {
    if (i > 0) out.push(`${x(p.at)},${y(points[i - 1]!.weight)}`);
    out.push(`${x(p.at)},${y(p.weight)}`);
  });
  out.push(`${x(Math.max(until, points[points.length - 1]!.at))},${y(points[points.length - 1]!.weight)}`);
  return out.join(' ');
}
