/**
 * LoopPriority lets a waiting API transaction go ahead of the engine's background turns. The API's
 * transactions begin on a turn of the event loop of their own (store/async-store.ts), queued behind
 * whatever was scheduled before them in that loop iteration: the engine's turn through the agents'
 * reports (up to 50 ms) and the next chunk of a fan-out (200 gRPC writes). At 10,000 agents that
 * wait made CreateDeployment slower than when it wrote in the request's own callback. A background
 * task asks `giveWay()` at the top of its turn: while a transaction waits it skips that turn (and
 * is scheduled again, behind the transaction), but never two turns running, so API traffic can
 * slow the engine down and never stop it.
 */
export interface LoopPriority {
  /** queued and begun count the transactions waiting for their turn. */
  queued(): void;
  begun(): void;
  /** waiting is how many transactions wait for their turn now. */
  waiting(): number;
  /** giveWay makes one background task's gate: true when it should skip this turn. */
  giveWay(): () => boolean;
}

/** createLoopPriority makes the priority of one event loop's transactions. */
export function createLoopPriority(): LoopPriority {
  let waiting = 0;
  return {
    queued: () => void waiting++,
    begun: () => void (waiting = Math.max(0, waiting - 1)),
    waiting: () => waiting,
    giveWay() {
      let gaveWay = false;
      return () => {
        gaveWay = waiting > 0 && !gaveWay;
        return gaveWay;
      };
    },
  };
}
