/**
 * The live fleet picture: one tile per host on a canvas, coloured by state (fleet-model.ts), with a
 * legend that counts each state. A canvas keeps 1,000 hosts one element and one draw; the host under
 * the pointer is named beside the legend.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Grid, Host } from './fleet-model.js';
import { countByState, gridFor, TILE_COLOURS, TILE_LABELS, TILE_STATES, tileAt, tileState } from './fleet-model.js';

export function FleetPicture({ hosts }: { hosts: readonly Host[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [hover, setHover] = useState<Host | undefined>(undefined);
  const grid = useRef<Grid | undefined>(undefined);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (c === null) return;
    const started = performance.now();
    const g = gridFor(hosts.length, width);
    grid.current = g;
    const ratio = window.devicePixelRatio || 1;
    c.width = Math.round(width * ratio);
    c.height = Math.round(Math.max(g.height, 1) * ratio);
    c.style.width = `${width}px`;
    c.style.height = `${Math.max(g.height, 1)}px`;
    const ctx = c.getContext('2d');
    if (ctx === null) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, g.height);
    const pitch = g.size + g.gap;
    hosts.forEach((h, i) => {
      ctx.fillStyle = TILE_COLOURS[tileState(h)];
      ctx.fillRect((i % g.cols) * pitch, Math.floor(i / g.cols) * pitch, g.size, g.size);
    });
    // For the browser test and the curious: how many tiles the last draw made, and how long it took.
    c.dataset.tiles = String(hosts.length);
    c.dataset.drawMs = (performance.now() - started).toFixed(2);
  }, [hosts, width]);

  const counts = countByState(hosts);
  const onMove = (e: MouseEvent): void => {
    const g = grid.current;
    if (g === undefined) return;
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const i = tileAt(g, hosts.length, e.clientX - rect.left, e.clientY - rect.top);
    setHover(i === undefined ? undefined : hosts[i]);
  };

  return (
    <section class="fleet" aria-label="fleet picture">
      <h2>
        Fleet <span class="muted">{hosts.length} host{hosts.length === 1 ? '' : 's'}</span>
      </h2>
      <ul class="legend">
        {TILE_STATES.filter((s) => counts[s] > 0).map((s) => (
          <li key={s} data-state={s}>
            <i style={{ background: TILE_COLOURS[s] }} />
            {TILE_LABELS[s]} <strong data-testid={`count-${s}`}>{counts[s]}</strong>
          </li>
        ))}
        <li class="hover" aria-live="polite">
          {hover === undefined ? '' : `${hover.name}: ${TILE_LABELS[tileState(hover)]}${hover.deploymentId === undefined ? '' : ` (${hover.deploymentId} ${hover.instanceStatus ?? ''})`}`}
        </li>
      </ul>
      <div ref={box} class="fleet-canvas">
        <canvas ref={canvas} onMouseMove={onMove} onMouseLeave={() => setHover(undefined)} aria-label={`${hosts.length} host tiles`} />
      </div>
    </section>
  );
}
