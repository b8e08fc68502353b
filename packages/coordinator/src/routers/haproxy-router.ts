/**
 * The router of a Server blue/green deployment: one HAProxy backend whose servers are named as the
 * instances, driven through HAProxy's runtime API. The original (blue) servers carry the traffic at
 * first; the replacement (green) ones are held at weight 0 while they are installed, then the weights
 * move so that the green servers get each step's share (weights.ts), raising before lowering so that
 * some server always takes requests. Once all traffic has moved the blue servers are drained
 * (`block`), and a TERMINATE deployment later puts them in maintenance and retires their instances.
 * Rollback gives the blue servers their configured weights back and the green ones 0. Each call reads
 * the backend afresh, so repeating one after a restart is harmless.
 */
import type { ServerBlueGreenSpec } from '../store/records.js';
import type { PrepareStage } from '../deployment/traffic/plan.js';
import type { TrafficRouter } from '../deployment/traffic/router.js';
import { RouterError } from '../deployment/traffic/router.js';
import type { HaproxyRuntimeApi } from './haproxy/runtime-api.js';
import type { ServerState } from './haproxy/servers-state.js';
import { isRuntimeApiError } from './haproxy/runtime-error.js';
import { weightsForGreenShare } from './haproxy/weights.js';
import { weightChanges } from './haproxy/weight-changes.js';

/** HaproxyRouterDeps are what one deployment's router works with. */
export interface HaproxyRouterDeps {
  api: HaproxyRuntimeApi;
  spec: ServerBlueGreenSpec;
  /** The replacement instances that installed well: only they ever get traffic. */
  liveGreen(): Promise<readonly string[]>;
  /** retire takes the original instances of a TERMINATE deployment out of the fleet (deregistered, the operator's command). */
  retire(names: readonly string[]): Promise<void>;
}

/** createHaproxyRouter builds the router of one Server blue/green deployment. */
export function createHaproxyRouter(deps: HaproxyRouterDeps): TrafficRouter {
  const { api, spec } = deps;
  const backend = spec.backend;

  /** servers reads the backend and checks that every instance of the deployment has its server. */
  async function servers(): Promise<Map<string, ServerState>> {
    const list = await call(() => api.showServers(backend));
    const byName = new Map(list.map((s) => [s.server, s]));
    const missing = [...spec.blue, ...spec.green].filter((n) => !byName.has(n));
    if (missing.length > 0) {
      throw new RouterError('ELB_INVALID_INSTANCE', `HAProxy backend ${backend} has no server named ${missing.join(', ')}; each instance must be a server of the backend under its instance name (it has: ${list.map((s) => s.server).join(', ') || 'no servers'})`);
    }
    return byName;
  }

  /** apply moves the backend to `target` weights, raising before lowering. */
  async function apply(current: Map<string, ServerState>, target: Record<string, number>): Promise<void> {
    const now = Object.fromEntries([...current].map(([name, s]) => [name, s.userWeight]));
    for (const change of weightChanges(now, target)) await call(() => api.setWeight(backend, change.server, change.to));
  }

  /** call runs one runtime API command; HAProxy's refusals and an unreachable socket end the deployment as CodeDeploy's ELB errors do. */
  async function call<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (isRuntimeApiError(err)) throw new RouterError('ELASTIC_LOAD_BALANCING_INVALID', err.message);
      throw err;
    }
  }

  /**
   * ready lifts a drain on `names` (their weight then decides their traffic), and with `maint` a
   * maintenance too: a replacement server may wait in the configuration as `disabled`.
   */
  async function ready(current: Map<string, ServerState>, names: readonly string[], maint: boolean): Promise<void> {
    for (const n of names) {
      const s = current.get(n);
      if (s?.drain === true || (maint && s?.maint === true)) await call(() => api.setState(backend, n, 'ready'));
    }
  }

  return {
    async check() {
      const current = await servers();
      // Naming the serving set as the replacement (a deployment that should have named the other set)
      // would take the backend's only servers out: refuse before touching anything.
      const serving = (names: readonly string[]): boolean => names.some((n) => { const s = current.get(n)!; return s.userWeight > 0 && !s.drain && !s.maint; });
      if (serving(spec.green) && !serving(spec.blue)) {
        throw new RouterError('ELASTIC_LOAD_BALANCING_INVALID', `the replacement instances (${spec.green.join(', ')}) carry HAProxy backend ${backend}'s traffic now and the original ones (${spec.blue.join(', ') || 'none'}) carry none: installing on them would leave the backend without a server; name the instances that do not serve as the replacement (--target-instances)`);
      }
      // The replacement gets nothing while it is installed, and the original is brought to the scale of
      // the 0 % weights: each later step then moves one colour one way, so no moment of a step (its
      // commands go one by one) sends the replacement more than the step's share.
      const target: Record<string, number> = Object.fromEntries(spec.green.map((n) => [n, 0]));
      if (spec.blue.length > 0 && spec.green.length > 0) {
        const w = weightsForGreenShare({ blue: spec.blue.map((n) => current.get(n)!.initialWeight), green: spec.green.map((n) => current.get(n)!.initialWeight) }, 0);
        spec.blue.forEach((n, i) => (target[n] = w.blue[i]!));
      }
      await apply(current, target);
    },

    async shift(weight) {
      const current = await servers();
      const live = new Set(await deps.liveGreen());
      const green = spec.green.filter((n) => live.has(n));
      if (green.length === 0) throw new RouterError('HEALTH_CONSTRAINTS', 'no replacement instance installed well; nothing to shift traffic to');
      await ready(current, green, true);
      const initial = (names: readonly string[]) => names.map((n) => current.get(n)!.initialWeight);
      const target: Record<string, number> = Object.fromEntries(spec.green.map((n) => [n, 0]));
      if (spec.blue.length === 0) {
        for (const n of green) target[n] = current.get(n)!.initialWeight;
      } else {
        const w = weightsForGreenShare({ blue: initial(spec.blue), green: initial(green) }, weight);
        spec.blue.forEach((n, i) => (target[n] = w.blue[i]!));
        green.forEach((n, i) => (target[n] = w.green[i]!));
      }
      await apply(current, target);
    },

    async rollback() {
      const current = await servers();
      await ready(current, spec.blue, false);
      const target: Record<string, number> = {};
      for (const n of spec.blue) target[n] = current.get(n)!.initialWeight;
      for (const n of spec.green) target[n] = 0;
      await apply(current, target);
    },

    async prepare(stage: PrepareStage) {
      if (stage !== 'block') throw new Error(`an HAProxy router has no ${stage} step`);
      await servers();
      for (const n of spec.blue) await call(() => api.setState(backend, n, 'drain'));
    },

    async cleanup() {
      await servers();
      for (const n of spec.blue) await call(() => api.setState(backend, n, 'maint'));
      await deps.retire(spec.blue);
    },

    invokeHook() {
      return Promise.reject(new Error('a Server blue/green deployment runs its hooks on its agents'));
    },
  };
}
