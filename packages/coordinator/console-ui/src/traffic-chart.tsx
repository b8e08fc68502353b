/** The traffic weights of a shifting deployment over time: a small SVG staircase, 0-100 %. */
import type { WeightPoint } from './traffic.js';
import { stepPolyline } from './traffic.js';

const W = 320;
const H = 90;

export function TrafficChart({ points, now }: { points: readonly WeightPoint[]; now: number }) {
  if (points.length === 0) return null;
  const last = points[points.length - 1]!;
  // the last step is drawn held for at least a second, so a shift that just ended still shows its top step
  const until = Math.max(now, last.at + 1000);
  const span = Math.round((until - points[0]!.at) / 1000);
  return (
    <figure class="traffic" aria-label="traffic to the replacement over time">
      <svg viewBox={`-44 -6 ${W + 52} ${H + 24}`} width={W + 52} height={H + 24} role="img">
        <line x1={0} y1={H} x2={W} y2={H} class="axis" />
        <line x1={0} y1={0} x2={0} y2={H} class="axis" />
        <text x={-6} y={4} class="tick" text-anchor="end">100 %</text>
        <text x={-6} y={H} class="tick" text-anchor="end">0 %</text>
        <text x={0} y={H + 14} class="tick">0 s</text>
        <text x={W} y={H + 14} class="tick" text-anchor="end">{span} s</text>
        <polyline points={stepPolyline(points, W, H, until)} class="weight" />
      </svg>
      <figcaption>
        replacement now takes <strong data-testid="traffic-weight">{last.weight} %</strong> of traffic ({points.length} step{points.length === 1 ? '' : 's'})
      </figcaption>
    </figure>
  );
}
