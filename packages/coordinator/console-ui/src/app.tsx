/**
 * The signed-in console: the fleet picture on top, then applications → deployment groups →
 * deployments, and the chosen deployment. One stream of every deployment's changes keeps the fleet,
 * the lists and the traffic charts current without reloading.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Who } from './api.js';
import { call, checkSignedIn, eventsUrl } from './api.js';
import type { Deployment, LiveMessage } from './live.js';
import { openLive } from './live.js';
import type { Host } from './fleet-model.js';
import { applyInstanceChange } from './fleet-model.js';
import { FleetPicture } from './fleet-picture.js';
import { DeploymentView } from './deployment-view.js';
import type { WeightPoint } from './traffic.js';
import { addPoint } from './traffic.js';

interface FleetInstance {
  instanceName: string;
  agent: { status: Host['agent'] };
  lastDeployment?: { deploymentId: string; instanceStatus: string };
}

/** loadFleet reads every registered instance, 100 a page. */
async function loadFleet(): Promise<Map<string, Host>> {
  const hosts = new Map<string, Host>();
  let nextToken: string | undefined;
  do {
    const r = await call<{ instances: FleetInstance[]; nextToken?: string }>('ListInstances', nextToken === undefined ? {} : { nextToken });
    for (const i of r.instances) {
      hosts.set(i.instanceName, {
        name: i.instanceName,
        agent: i.agent.status,
        ...(i.lastDeployment === undefined ? {} : { deploymentId: i.lastDeployment.deploymentId, instanceStatus: i.lastDeployment.instanceStatus }),
      });
    }
    nextToken = r.nextToken;
  } while (nextToken !== undefined && nextToken !== '');
  return hosts;
}

/** loadDeployments reads deployments by id, 25 a call (BatchGetDeployments' limit). */
async function loadDeployments(ids: readonly string[]): Promise<Deployment[]> {
  const out: Deployment[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const r = await call<{ deploymentsInfo: Deployment[] }>('BatchGetDeployments', { deploymentIds: ids.slice(i, i + 25) });
    out.push(...r.deploymentsInfo);
  }
  return out;
}

const FLEET_REFRESH_MS = 30_000;

export function App({ who, signOut }: { who: Who; signOut: () => void }) {
  const [hosts, setHosts] = useState<Map<string, Host>>(new Map());
  const [deployments, setDeployments] = useState<Map<string, Deployment>>(new Map());
  const [traffic, setTraffic] = useState<Map<string, WeightPoint[]>>(new Map());
  const [connected, setConnected] = useState(false);
  const [apps, setApps] = useState<string[]>([]);
  const [groups, setGroups] = useState<string[]>([]);
  const [app, setApp] = useState<string | undefined>(undefined);
  const [group, setGroup] = useState<string | undefined>(undefined);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const refreshFleet = (): void => {
    loadFleet().then(
      (h) => {
        setHosts(h);
        if (document.body.dataset.fleetLoaded === undefined) {
          document.body.dataset.fleetLoaded = String(h.size);
          performance.mark('fleet-loaded');
        }
      },
      (err: unknown) => setProblem(`cannot read the fleet: ${String(err)}`),
    );
  };

  /** held names the deployments waiting on a guided failure, for the stream's handler (a closure made once). */
  const held = useRef(new Set<string>());
  const remember = (list: readonly Deployment[]): void => {
    for (const d of list) {
      if ((d.guidedFailure?.waitingInstances.length ?? 0) > 0) held.current.add(d.deploymentId);
      else held.current.delete(d.deploymentId);
    }
    setDeployments((prev) => {
      const next = new Map(prev);
      for (const d of list) next.set(d.deploymentId, d);
      return next;
    });
  };
  /** reload reads one deployment again (its counts, error and guided failure). */
  const reload = (deploymentId: string): void => void loadDeployments([deploymentId]).then(remember, () => undefined);

  /** hear applies one message of any stream to the fleet, the deployments and the traffic charts. */
  const hear = (m: LiveMessage): void => {
    if (m.type === 'snapshot') remember([m.deployment]);
    else if (m.type === 'deployment') {
      setDeployments((prev) => {
        const d = prev.get(m.deploymentId);
        return d === undefined || d.status === m.status ? prev : new Map(prev).set(m.deploymentId, { ...d, status: m.status });
      });
      // a final status: read the final counts and error once
      if (['Succeeded', 'Failed', 'Stopped', 'Ready'].includes(m.status)) reload(m.deploymentId);
    } else if (m.type === 'guidedFailure') reload(m.deploymentId); // it now waits: read which instances and why
    else if (m.type === 'instance') {
      setHosts((prev) => applyInstanceChange(prev, m) ?? prev);
      // a held deployment moves on (someone answered, here or with the CLI): read whether it still waits
      if (held.current.has(m.deploymentId)) reload(m.deploymentId);
    }
    else if (m.type === 'traffic') setTraffic((prev) => new Map(prev).set(m.deploymentId, addPoint(prev.get(m.deploymentId) ?? [], { at: m.at, weight: m.weight })));
  };

  useEffect(() => {
    const live = openLive(eventsUrl(), hear, (up) => {
      setConnected(up);
      if (up) refreshFleet(); // what changed while the stream was down
      else void checkSignedIn().catch(() => undefined); // a stream closed for an ended session: back to sign-in
    });
    const timer = setInterval(refreshFleet, FLEET_REFRESH_MS); // hosts registered since
    call<{ applications: string[] }>('ListApplications').then((r) => setApps(r.applications), (err: unknown) => setProblem(String(err)));
    return () => {
      live.close();
      clearInterval(timer);
    };
  }, []);

  useEffect(() => {
    setGroups([]);
    setGroup(undefined);
    if (app === undefined) return;
    call<{ deploymentGroups: string[] }>('ListDeploymentGroups', { applicationName: app }).then((r) => setGroups(r.deploymentGroups), (err: unknown) => setProblem(String(err)));
  }, [app]);

  useEffect(() => {
    if (app === undefined || group === undefined) return;
    call<{ deployments: string[] }>('ListDeployments', { applicationName: app, deploymentGroupName: group })
      .then((r) => loadDeployments(r.deployments))
      .then(remember, (err: unknown) => setProblem(String(err)));
  }, [app, group]);

  const hostList = useMemo(() => [...hosts.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })), [hosts]);
  const groupDeployments = [...deployments.values()]
    .filter((d) => d.applicationName === app && d.deploymentGroupName === group)
    .sort((a, b) => (b.createTime ?? 0) - (a.createTime ?? 0));

  return (
    <div class="console">
      <header>
        <h1>fleetdeploy</h1>
        <span class={`live ${connected ? 'on' : 'off'}`} data-testid="live">
          {connected ? 'live' : 'reconnecting…'}
        </span>
        <span class="who">
          {who.keyId} <em data-testid="role">{who.role}</em>
        </span>
        <button onClick={signOut}>Sign out</button>
      </header>
      {problem !== undefined && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      <FleetPicture hosts={hostList} />
      <div class="browse">
        <Column title="Applications" items={apps} chosen={app} choose={(a) => (setApp(a), setChosen(undefined))} empty="no applications yet" />
        <Column title="Deployment groups" items={groups} chosen={group} choose={(g) => (setGroup(g), setChosen(undefined))} empty={app === undefined ? 'choose an application' : 'no groups'} />
        <section class="column" aria-label="deployments">
          <h2>Deployments</h2>
          {group === undefined ? (
            <p class="muted">choose a group</p>
          ) : groupDeployments.length === 0 ? (
            <p class="muted">no deployments yet</p>
          ) : (
            <ul>
              {groupDeployments.map((d) => (
                <li key={d.deploymentId}>
                  <button class={d.deploymentId === chosen ? 'chosen' : ''} data-deployment={d.deploymentId} onClick={() => setChosen(d.deploymentId)}>
                    {d.deploymentId} <span class={`status s-${d.status}`}>{d.status}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {chosen !== undefined && <DeploymentView key={chosen} deploymentId={chosen} deployment={deployments.get(chosen)} who={who} traffic={traffic.get(chosen) ?? []} seen={hear} reload={() => reload(chosen)} />}
    </div>
  );
}

function Column({ title, items, chosen, choose, empty }: { title: string; items: readonly string[]; chosen: string | undefined; choose: (item: string) => void; empty: string }) {
  return (
    <section class="column" aria-label={title}>
      <h2>{title}</h2>
      {items.length === 0 ? (
        <p class="muted">{empty}</p>
      ) : (
        <ul>
          {items.map((item) => (
            <li key={item}>
              <button class={item === chosen ? 'chosen' : ''} onClick={() => choose(item)}>
                {item}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
