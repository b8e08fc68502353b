/**
 * The fleet picture's model, as pure functions: each host's state from ListInstances and the live
 * stream, its tile colour, and the grid that places one tile per host on a canvas.
 */

/** Host is one registered instance as the fleet picture shows it. */
export interface Host {
  name: string;
  agent: 'Connected' | 'Disconnected' | 'NeverConnected';
  /** The status of the host in its latest deployment (InProgress, Succeeded, Failed, ...), if any. */
  instanceStatus?: string;
  deploymentId?: string;
}

/** TileState is what a tile's colour says. */
export type TileState = 'succeeded' | 'failed' | 'inProgress' | 'pending' | 'skipped' | 'idle' | 'offline';

/** TILE_STATES lists the states in the legend's order. */
export const TILE_STATES: readonly TileState[] = ['inProgress', 'pending', 'succeeded', 'failed', 'skipped', 'idle', 'offline'];

/** TILE_COLOURS are the tiles' fill colours (colour-blind safe pairs: blue/orange, green/red differ in lightness too). */
export const TILE_COLOURS: Readonly<Record<TileState, string>> = {
  inProgress: '#2f6fdb',
  pending: '#e0a526',
  succeeded: '#2e9e4f',
  failed: '#c9302c',
  skipped: '#9aa4b2',
  idle: '#d6dbe3',
  offline: '#4a4f57',
};

/** TILE_LABELS are the legend's words for each state. */
export const TILE_LABELS: Readonly<Record<TileState, string>> = {
  inProgress: 'in progress',
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  idle: 'no deployment yet',
  offline: 'agent offline',
};

/** tileState: an agent that is not connected shows offline whatever its last deployment did. */
export function tileState(h: Host): TileState {
  if (h.agent !== 'Connected') return 'offline';
  switch (h.instanceStatus) {
    case undefined:
      return 'idle';
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
      return 'failed';
    case 'InProgress':
      return 'inProgress';
    case 'Pending':
    case 'Ready':
      return 'pending';
    default:
      return 'skipped'; // Skipped, Unknown
  }
}

/** countByState counts the hosts in each state. */
export function countByState(hosts: Iterable<Host>): Record<TileState, number> {
  const counts = Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as Record<TileState, number>;
  for (const h of hosts) counts[tileState(h)]++;
  return counts;
}

/** InstanceChange is the stream's `instance` message. */
export interface InstanceChange {
  deploymentId: string;
  instanceName: string;
  status: string;
}

/**
 * applyInstanceChange gives the host after a change of its status in a deployment: the host's tile
 * follows its newest deployment, so a change from the deployment it shows, or from a newer one (a
 * deployment id it has not seen is newer: ids come only from the stream, in order), replaces it.
 * Unknown hosts are left to the next ListInstances.
 */
export function applyInstanceChange(hosts: ReadonlyMap<string, Host>, change: InstanceChange): Map<string, Host> | undefined {
  const h = hosts.get(change.instanceName);
  if (h === undefined) return undefined;
  if (h.deploymentId === change.deploymentId && h.instanceStatus === change.status) return undefined;
  const next = new Map(hosts);
  next.set(h.name, { ...h, deploymentId: change.deploymentId, instanceStatus: change.status });
  return next;
}

/** Grid is where the tiles go: `cols` per row of `size` px squares, `gap` px apart. */
export interface Grid {
  cols: number;
  rows: number;
  size: number;
  gap: number;
  height: number;
}

/**
 * gridFor fits `count` tiles into `width` px: tiles as large as `maxSize` while they fit in
 * `maxRows` rows, down to `minSize`, below which the grid simply grows taller. At 1,000 hosts on a
 * 1,000 px wide canvas tiles are about 14 px.
 */
export function gridFor(count: number, width: number, opts: { minSize?: number; maxSize?: number; gap?: number; maxHeight?: number } = {}): Grid {
  const gap = opts.gap ?? 2;
  const minSize = opts.minSize ?? 8;
  const maxSize = opts.maxSize ?? 36;
  const maxHeight = opts.maxHeight ?? 320;
  const w = Math.max(width, minSize + gap);
  let size = maxSize;
  for (; size > minSize; size--) {
    const cols = Math.max(1, Math.floor((w + gap) / (size + gap)));
    const rows = Math.ceil(count / cols);
    if (rows * (size + gap) - gap <= maxHeight) break;
  }
  const cols = Math.max(1, Math.floor((w + gap) / (size + gap)));
  const rows = Math.ceil(count / cols);
  return { cols, rows, size, gap, height: Math.max(0, rows * (size + gap) - gap) };
}

/** tileAt is the index of the tile under (x, y) px, or undefined between tiles or past the last. */
export function tileAt(grid: Grid, count: number, x: number, y: number): number | undefined {
  const pitch = grid.size + grid.gap;
  const col = Math.floor(x / pitch);
  const row = Math.floor(y / pitch);
  if (x < 0 || y < 0 || col >= grid.cols || x - col * pitch >= grid.size || y - row * pitch >= grid.size) return undefined;
  const i = row * grid.cols + col;
  return i < count ? i : undefined;
}
