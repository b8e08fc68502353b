/**
 * With replicas, a deployment's events are made by the replica that drives it, but a client's event
 * stream (`fleetdeploy deploy --watch`, the console) may be served by any replica. The driving
 * replica sends each committed step's events to the others on the `fd_events` channel, in the step's
 * transaction (PostgreSQL delivers a NOTIFY only when it commits), and each replica's relay hands
 * them to its event stream's listeners.
 *
 * A NOTIFY payload holds less than 8,000 bytes: events go in as many payloads as they need, each
 * `{"r": <sender replica id>, "e": [events]}`. A lifecycle event whose diagnostics alone would not
 * fit loses its log tail, then its message (the full record stays in the database: GetDeployment,
 * ListDeploymentInstances).
 */
import type { DeploymentEvent, DeploymentEventListener } from './events.js';

/** encodeEvents packs `events` from `replicaId` into payloads of at most `maxBytes` bytes each (UTF-8), in order. */
export function encodeEvents(replicaId: string, events: readonly DeploymentEvent[], maxBytes: number): string[] {
  const head = `{"r":${JSON.stringify(replicaId)},"e":[`;
  const tail = ']}';
  const room = maxBytes - Buffer.byteLength(head) - Buffer.byteLength(tail);
  const payloads: string[] = [];
  let parts: string[] = [];
  let used = 0;
  for (const event of events) {
    const text = fitted(event, room);
    if (text === undefined) continue;
    const size = Buffer.byteLength(text);
    // A comma before each but the first.
    if (parts.length > 0 && used + 1 + size > room) {
      payloads.push(head + parts.join(',') + tail);
      parts = [];
      used = 0;
    }
    used += (parts.length > 0 ? 1 : 0) + size;
    parts.push(text);
  }
  if (parts.length > 0) payloads.push(head + parts.join(',') + tail);
  return payloads;
}

/** fitted is the event's JSON in at most `room` bytes, its diagnostics cut down if they must be; undefined if even that does not fit. */
function fitted(event: DeploymentEvent, room: number): string | undefined {
  const text = JSON.stringify(event);
  if (Buffer.byteLength(text) <= room) return text;
  if (event.type !== 'lifecycleEvent' || event.diagnostics === undefined) return undefined;
  const withoutTail = JSON.stringify({ ...event, diagnostics: { ...event.diagnostics, logTail: '' } });
  if (Buffer.byteLength(withoutTail) <= room) return withoutTail;
  const bare = JSON.stringify({ ...event, diagnostics: { ...event.diagnostics, logTail: '', message: '' } });
  return Buffer.byteLength(bare) <= room ? bare : undefined;
}

/** decodeEvents reads a payload; one this replica sent itself, or one not of the shape above, gives none. */
export function decodeEvents(payload: string, ownReplicaId: string): DeploymentEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return [];
  }
  const p = parsed as { r?: unknown; e?: unknown } | null;
  if (typeof p !== 'object' || p === null || typeof p.r !== 'string' || p.r === ownReplicaId || !Array.isArray(p.e)) return [];
  return p.e.filter((e): e is DeploymentEvent => typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string' && typeof (e as { deploymentId?: unknown }).deploymentId === 'string');
}

/** EventRelay hands the events other replicas sent to this replica's listeners. */
export interface EventRelay {
  /** received takes payloads off `fd_events` (in the order they came). */
  received(payloads: readonly string[]): void;
  subscribe(listener: DeploymentEventListener): () => void;
}

/** createEventRelay is the relay of replica `replicaId`; `failed` hears of a listener that threw. */
export function createEventRelay(replicaId: string, failed: (err: unknown) => void): EventRelay {
  const listeners = new Set<DeploymentEventListener>();
  return {
    received(payloads) {
      if (listeners.size === 0) return;
      for (const payload of payloads) {
        for (const event of decodeEvents(payload, replicaId)) {
          for (const listener of listeners) {
            try {
              listener(event);
            } catch (err) {
              failed(err);
            }
          }
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
