/**
 * The agent's Prometheus metrics (prom-client), served on 127.0.0.1 only when the configuration sets
 * `metrics_port` (see metrics-server.ts): lifecycle events run, by event and status; their durations;
 * bundle bytes downloaded; and Node's process metrics (RSS, CPU, event loop lag). Every name starts
 * with `fleetdeploy_agent_`.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** AgentMetrics records what the agent does and renders the exposition text. */
export interface AgentMetrics {
  readonly contentType: string;
  /** eventFinished counts one lifecycle event (or the OnFailure hook) that ended here, and how long it ran. */
  eventFinished(event: string, status: 'Succeeded' | 'Failed', seconds: number): void;
  /** bundleBytes adds bytes received from the coordinator for a DownloadBundle. */
  bundleBytes(bytes: number): void;
  render(): Promise<string>;
}

/** EVENT_BUCKETS are event durations in seconds: a no-op hook to an hour-long install. */
const EVENT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** createAgentMetrics builds one agent process's registry. */
export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetdeploy_agent_' });
  const events = new Counter({ name: 'fleetdeploy_agent_events_total', help: 'Lifecycle events this agent ran, by event and status (OnFailure counts as an event)', labelNames: ['event', 'status'], registers: [registry] });
  const durations = new Histogram({ name: 'fleetdeploy_agent_event_duration_seconds', help: 'How long each lifecycle event ran on this host (its scripts, or the download or install)', labelNames: ['event'], buckets: EVENT_BUCKETS, registers: [registry] });
  const bytes = new Counter({ name: 'fleetdeploy_agent_bundle_downloaded_bytes_total', help: 'Bundle bytes received from the coordinator (resumed downloads count what was received again)', registers: [registry] });
  return {
    contentType: registry.contentType,
    eventFinished(event, status, seconds) {
      events.inc({ event, status });
      durations.observe({ event }, Math.max(0, seconds));
    },
    bundleBytes(n) {
      if (n > 0) bytes.inc(n);
    },
    render: () => registry.metrics(),
  };
}
