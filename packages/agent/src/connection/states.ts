/**
 * The states of the agent's stream to its coordinator, with guarded transitions as grpc-js guards its
 * channel's: a transition names the states it may start from, and one that finds the connection
 * elsewhere (a late timer after shutdown, a stream ending twice) is refused instead of applied.
 *
 *            start                 Welcome
 *   Idle ──────────▶ Connecting ──────────▶ Ready
 *                     ▲     │                 │
 *           delay over│     │stream ended     │stream ended
 *                     │     ▼                 │
 *                     Backoff ◀───────────────┘
 *
 *   every state ──stop()──▶ Shutdown (terminal)
 */

/** ConnectionState names the states of the connection. */
export const ConnectionState = {
  Idle: 'Idle',
  Connecting: 'Connecting',
  Ready: 'Ready',
  Backoff: 'Backoff',
  Shutdown: 'Shutdown',
} as const;
/** ConnectionStateName is one of {@link ConnectionState}. */
export type ConnectionStateName = (typeof ConnectionState)[keyof typeof ConnectionState];

/** allowedTransitions lists, for each state, the states it may move to. Shutdown is terminal. */
export const allowedTransitions: Readonly<Record<ConnectionStateName, readonly ConnectionStateName[]>> = {
  Idle: ['Connecting', 'Shutdown'],
  Connecting: ['Ready', 'Backoff', 'Shutdown'],
  Ready: ['Backoff', 'Shutdown'],
  Backoff: ['Connecting', 'Shutdown'],
  Shutdown: [],
};

/** ConnectionStates holds the current state and applies guarded transitions. */
export interface ConnectionStates {
  current(): ConnectionStateName;
  /**
   * transition moves to `to` if the current state is one of `from` (and the table allows it);
   * returns false, changing nothing, otherwise.
   */
  transition(from: readonly ConnectionStateName[], to: ConnectionStateName): boolean;
}

/** createConnectionStates starts in Idle; `onChange` hears every applied transition. */
export function createConnectionStates(onChange: (from: ConnectionStateName, to: ConnectionStateName) => void = () => undefined): ConnectionStates {
  let state: ConnectionStateName = ConnectionState.Idle;
  return {
    current: () => state,
    transition(from, to) {
      if (!from.includes(state) || !allowedTransitions[state].includes(to)) return false;
      const previous = state;
      state = to;
      onChange(previous, to);
      return true;
    },
  };
}
