/**
 * One deployment: its status and counts, the actions the signed-in key may take, the instances a
 * guided failure holds (with Retry / Skip / Fail), the traffic chart while it shifts, and its instances (a virtualised list) with each one's lifecycle events and the
 * failing script's log tail. Fed by the deployment's own stream: a snapshot, then every change.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Who } from './api.js';
import { ApiFailure, call, eventsUrl } from './api.js';
import type { Deployment, HeldInstance, InstanceTarget, LiveMessage } from './live.js';
import { openLive } from './live.js';
import { VirtualList } from './virtual-list.js';
import { TrafficChart } from './traffic-chart.js';
import type { WeightPoint } from './traffic.js';

const FINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

export interface DeploymentViewProps {
  deploymentId: string;
  deployment: Deployment | undefined;
  who: Who;
  traffic: readonly WeightPoint[];
  /** seen hands every message of this deployment's stream on (the deployment's own status, mostly). */
  seen: (m: LiveMessage) => void;
  /** reload reads the deployment again (after an answer to a guided failure, which the stream may not announce at once). */
  reload: () => void;
}

const when = (seconds: number | undefined): string => (seconds === undefined ? '' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'));

export function DeploymentView({ deploymentId, deployment, who, traffic, seen, reload }: DeploymentViewProps) {
  const [targets, setTargets] = useState<Map<string, InstanceTarget>>(new Map());
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    setTargets(new Map());
    setChosen(undefined);
    setNotice(undefined);
    const refetch = (name: string): void => {
      call<{ deploymentTargets: { instanceTarget?: InstanceTarget }[] }>('BatchGetDeploymentTargets', { deploymentId, targetIds: [name] }).then(
        (r) => {
          const t = r.deploymentTargets[0]?.instanceTarget;
          if (t !== undefined) setTargets((m) => new Map(m).set(t.targetId, t));
        },
        () => undefined, // the next change or snapshot brings it
      );
    };
    const live = openLive(
      eventsUrl(deploymentId),
      (m) => {
        seen(m);
        if (m.type === 'snapshot') setTargets(new Map(m.instances.map((t) => [t.targetId, t])));
        else if (m.type === 'instance') {
          setTargets((prev) => {
            const t = prev.get(m.instanceName);
            return t === undefined ? prev : new Map(prev).set(m.instanceName, { ...t, status: m.status, lastUpdatedAt: m.at / 1000 });
          });
          if (FINAL.has(m.status)) refetch(m.instanceName);
        } else if (m.type === 'lifecycleEvent') {
          setTargets((prev) => {
            const t = prev.get(m.instanceName);
            if (t === undefined) return prev;
            const events = (t.lifecycleEvents ?? []).map((e) => (e.lifecycleEventName === m.lifecycleEvent ? { ...e, status: m.status } : e));
            return new Map(prev).set(m.instanceName, { ...t, lifecycleEvents: events });
          });
          if (m.status === 'Failed') refetch(m.instanceName); // for the diagnostics and the script's log tail
        }
      },
      () => undefined,
    );
    return () => live.close();
  }, [deploymentId]);

  useEffect(() => {
    if (traffic.length === 0 || (deployment !== undefined && FINAL.has(deployment.status))) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [traffic.length, deployment?.status]);

  /** act asks the person to confirm, calls the operation and says what came of it (`done` words the success). */
  const act = async (operation: string, input: Record<string, unknown>, confirmText: string | undefined, done: string): Promise<void> => {
    if (confirmText !== undefined && !window.confirm(confirmText)) return;
    setBusy(true);
    setNotice(undefined);
    try {
      const r = await call<{ status?: string; statusMessage?: string }>(operation, input);
      setNotice(r.statusMessage === undefined ? done : `${done} (${r.statusMessage})`);
      if (operation === 'ResolveInstanceFailure') reload();
    } catch (err) {
      setNotice(err instanceof ApiFailure ? `${operation} refused: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  };

  const list = [...targets.values()].sort((a, b) => a.targetId.localeCompare(b.targetId, undefined, { numeric: true }));
  const picked = chosen === undefined ? undefined : targets.get(chosen);
  const status = deployment?.status ?? 'loading';
  const mayAct = who.role !== 'read-only';
  const running = !FINAL.has(status) && status !== 'loading';
  const blueGreen = deployment?.deploymentStyle?.deploymentType === 'BLUE_GREEN';

  return (
    <section class="deployment" aria-label={`deployment ${deploymentId}`}>
      <h2>
        {deploymentId}{' '}
        <span class={`status s-${status}`} data-testid="deployment-status">
          {status}
        </span>
      </h2>
      {deployment !== undefined && (
        <p class="muted">
          {deployment.applicationName} / {deployment.deploymentGroupName} · {deployment.deploymentConfigName ?? ''} · {blueGreen ? 'blue/green' : 'in place'} · created {when(deployment.createTime)}
          {deployment.creator !== undefined ? ` by ${deployment.creator}` : ''}
        </p>
      )}
      {deployment?.deploymentOverview !== undefined && (
        <p class="overview">
          {Object.entries(deployment.deploymentOverview)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(' · ')}
        </p>
      )}
      {deployment?.errorInformation?.message !== undefined && <p class="error">{deployment.errorInformation.message}</p>}
      {mayAct && running && (
        <div class="actions">
          <button disabled={busy} onClick={() => void act('StopDeployment', { deploymentId }, `Stop ${deploymentId}? Instances not yet deployed keep their revision.`, 'Stop requested')}>
            Stop
          </button>
          <button disabled={busy} onClick={() => void act('StopDeployment', { deploymentId, autoRollbackEnabled: true }, `Stop ${deploymentId} and roll back to the last good revision?`, 'Stop and rollback requested')}>
            Stop and roll back
          </button>
          {status === 'Ready' && (
            <button class="primary" disabled={busy} onClick={() => void act('ContinueDeployment', { deploymentId, deploymentWaitType: 'READY_WAIT' }, `Shift traffic to ${deploymentId}'s replacement instances now?`, 'Continued: the traffic moves to the replacement now')}>
              Continue (shift traffic)
            </button>
          )}
        </div>
      )}
      {(deployment?.guidedFailure?.waitingInstances.length ?? 0) > 0 && running && (
        <GuidedFailure
          deploymentId={deploymentId}
          held={deployment!.guidedFailure!.waitingInstances}
          targets={targets}
          mayAct={mayAct}
          busy={busy}
          resolve={(instanceId, action, confirmText, done) => void act('ResolveInstanceFailure', { deploymentId, instanceId, action }, confirmText, done)}
        />
      )}
      {notice !== undefined && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <TrafficChart points={traffic} now={now} />
      <div class="instances">
        <VirtualList
          label="instances"
          items={list}
          rowHeight={28}
          height={Math.min(360, Math.max(28, list.length * 28))}
          row={(t) => (
            <button class={`row${t.targetId === chosen ? ' chosen' : ''}`} onClick={() => setChosen(t.targetId)}>
              <span class="name">{t.targetId}</span>
              {t.instanceLabel !== undefined && <span class={`label l-${t.instanceLabel}`}>{t.instanceLabel === 'Blue' ? 'original' : 'replacement'}</span>}
              <span class={`status s-${t.status}`}>{t.status}</span>
              <span class="muted">{currentEvent(t)}</span>
            </button>
          )}
        />
        {picked !== undefined && <InstanceEvents target={picked} />}
      </div>
    </section>
  );
}

interface GuidedFailureProps {
  deploymentId: string;
  held: readonly HeldInstance[];
  targets: ReadonlyMap<string, InstanceTarget>;
  mayAct: boolean;
  busy: boolean;
  resolve: (instanceId: string, action: 'retry' | 'skip' | 'fail', confirmText: string | undefined, done: string) => void;
}

/**
 * GuidedFailure shows each instance a guided failure holds: the event it failed in, the error and the
 * failing script's log tail, and (for a key that may act) Retry, Skip and Fail. Skip and Fail ask
 * first, saying what they cost; a retry only runs the instance again.
 */
function GuidedFailure({ deploymentId, held, targets, mayAct, busy, resolve }: GuidedFailureProps) {
  return (
    <div class="guided" role="region" aria-label="waiting for an operator">
      <h3>Waiting for an operator (guided failure)</h3>
      {held.map((h) => {
        const failed = [...(targets.get(h.instanceId)?.lifecycleEvents ?? [])].reverse().find((e) => e.status === 'Failed' && e.lifecycleEventName === h.lifecycleEvent);
        const logTail = failed?.diagnostics?.logTail;
        return (
          <div class="held" key={h.instanceId} data-testid="held-instance" data-instance={h.instanceId}>
            <p>
              <strong>{h.instanceId}</strong> failed{h.lifecycleEvent === undefined ? '' : ` in ${h.lifecycleEvent}`}
              {h.errorCode === undefined ? '' : ` (${h.errorCode})`}
              {h.attempt > 1 ? ` on attempt ${h.attempt}` : ''}
              {h.message === undefined ? '' : `: ${h.message}`}
            </p>
            {logTail !== undefined && logTail !== '' && <pre data-testid="held-log-tail">{logTail}</pre>}
            {mayAct && (
              <div class="actions">
                <button class="primary" disabled={busy} onClick={() => resolve(h.instanceId, 'retry', undefined, `Retrying ${h.instanceId}: its lifecycle runs again from ApplicationStop`)}>
                  Retry
                </button>
                <button
                  disabled={busy}
                  onClick={() =>
                    resolve(
                      h.instanceId,
                      'skip',
                      `Skip ${h.instanceId} and let ${deploymentId} go on? It is marked Skipped but still counts as unavailable against the minimum healthy hosts (it failed part-way), so with no room left (OneAtATime) the deployment fails unless it was the last instance.`,
                      `Skipped ${h.instanceId}`,
                    )
                  }
                >
                  Skip
                </button>
                <button
                  class="danger"
                  disabled={busy}
                  onClick={() =>
                    resolve(h.instanceId, 'fail', `Fail ${deploymentId}? Pending instances are skipped, running ones finish, and it ends Failed (rolled back if the group rolls back on failure).`, `Failing ${deploymentId}`)
                  }
                >
                  Fail
                </button>
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** currentEvent names the event a running or failed instance is at (its first not Succeeded), for the list. */
function currentEvent(t: InstanceTarget): string {
  if (t.status !== 'InProgress' && t.status !== 'Failed') return '';
  const e = (t.lifecycleEvents ?? []).find((x) => x.status !== 'Succeeded' && x.status !== 'Skipped');
  return e === undefined ? '' : `${e.lifecycleEventName} ${e.status}`;
}

function InstanceEvents({ target }: { target: InstanceTarget }) {
  return (
    <div class="events" aria-label={`lifecycle events of ${target.targetId}`}>
      <h3>
        {target.targetId} <span class={`status s-${target.status}`}>{target.status}</span>
      </h3>
      <table>
        <thead>
          <tr>
            <th>event</th>
            <th>status</th>
            <th>took</th>
          </tr>
        </thead>
        <tbody>
          {(target.lifecycleEvents ?? []).map((e) => (
            <tr key={e.lifecycleEventName}>
              <td>{e.lifecycleEventName}</td>
              <td class={`status s-${e.status}`}>{e.status}</td>
              <td>{e.startTime !== undefined && e.endTime !== undefined ? `${(e.endTime - e.startTime).toFixed(1)} s` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(target.lifecycleEvents ?? [])
        .filter((e) => e.status === 'Failed' && e.diagnostics !== undefined)
        .map((e) => (
          <div class="diagnostics" key={e.lifecycleEventName}>
            <p>
              <strong>{e.lifecycleEventName}</strong> failed{e.diagnostics!.scriptName !== undefined ? ` in ${e.diagnostics!.scriptName}` : ''}: {e.diagnostics!.message ?? e.diagnostics!.errorCode}
            </p>
            {e.diagnostics!.logTail !== undefined && e.diagnostics!.logTail !== '' && <pre data-testid="log-tail">{e.diagnostics!.logTail}</pre>}
          </div>
        ))}
    </div>
  );
}
