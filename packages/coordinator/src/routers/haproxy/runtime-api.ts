/**
 * A client of HAProxy's runtime API (the `stats socket`), for moving a backend's traffic between its
 * blue and green servers.
 *
 * Each call opens one connection, sends one command line and reads until HAProxy closes: the API's
 * non-interactive mode, so no prompt handling and no state shared between calls. The socket must be
 * at `level admin` for `set weight` and `set server`. The runtime API has no authentication of its
 * own: keep a TCP socket on loopback (or a network only the coordinator reaches).
 *
 *   showServers('app')                  → `show servers state app`, parsed
 *   setWeight('app', 'green-1', 28)     → `set weight app/green-1 28`
 *   setState('app', 'blue-1', 'drain')  → `set server app/blue-1 state drain`
 */
import net from 'node:net';
import { RuntimeApiError, RuntimeApiErrorCode } from './runtime-error.js';
import { parseServersState } from './servers-state.js';
import type { ServerState } from './servers-state.js';
import { MAX_WEIGHT } from './weights.js';

/** AdminState is what `set server <backend>/<server> state` accepts. */
export const AdminState = ['ready', 'drain', 'maint'] as const;
export type AdminState = (typeof AdminState)[number];

/** RuntimeAddress is where the runtime API listens: a Unix socket path, or a TCP host and port. */
export type RuntimeAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** HaproxyRuntimeApi is what a router needs of one HAProxy's runtime API; every method is one command. */
export interface HaproxyRuntimeApi {
  /** address is the socket as given, for messages. */
  readonly address: string;
  /** showServers lists the servers of `backend` with their state and weights. */
  showServers(backend: string): Promise<ServerState[]>;
  /** setWeight sets a server's absolute weight, 0–256 (0: no new requests under a weighted algorithm). */
  setWeight(backend: string, server: string, weight: number): Promise<void>;
  /** setState sets a server's admin state: ready, drain (no new connections) or maint (no traffic at all). */
  setState(backend: string, server: string, state: AdminState): Promise<void>;
}

/** RuntimeApiOptions tune the client. */
export interface RuntimeApiOptions {
  /** timeoutMs bounds each command: connecting, and then each wait for more of the answer (default 5 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** HAProxy's proxy and server names: letters, digits and - _ . : (cfgparse's invalid_char). */
const NAME = /^[A-Za-z0-9_.:-]+$/;

/**
 * parseRuntimeAddress reads a runtime API address: a path (anything with a '/', `unix:` optional) is a
 * Unix socket; `host:port` (`[::1]:port` for IPv6) is TCP.
 */
export function parseRuntimeAddress(address: string): RuntimeAddress {
  const unix = address.startsWith('unix:') ? address.slice('unix:'.length) : address;
  if (unix.includes('/')) return { kind: 'unix', path: unix };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new RuntimeApiError(RuntimeApiErrorCode.INVALID_ARGUMENT, `HAProxy runtime API address '${address}' is neither a socket path (with a '/') nor host:port`);
  }
  return { kind: 'tcp', host: m[1] ?? m[2]!, port };
}

/** createHaproxyRuntimeApi gives a client of the runtime API at `address` (see {@link parseRuntimeAddress}). */
export function createHaproxyRuntimeApi(address: string, options: RuntimeApiOptions = {}): HaproxyRuntimeApi {
  const target = parseRuntimeAddress(address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // 0 would switch Node's socket timeout off, and a call could then wait for ever.
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RuntimeApiError(RuntimeApiErrorCode.INVALID_ARGUMENT, `timeout for HAProxy's runtime API at ${address} must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  const send = (command: string): Promise<string> => sendCommand(target, address, command, timeoutMs);

  return {
    address,

    async showServers(backend) {
      checkName('backend', backend);
      const answer = await send(`show servers state ${backend}`);
      if (answer.trim() === "Can't find backend.") throw noSuchBackend(backend, address);
      return parseServersState(answer, `HAProxy at ${address}`);
    },

    async setWeight(backend, server, weight) {
      checkName('backend', backend);
      checkName('server', server);
      if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
        throw new RuntimeApiError(RuntimeApiErrorCode.INVALID_ARGUMENT, `weight for ${backend}/${server} must be an integer from 0 to ${MAX_WEIGHT}, got ${weight}`);
      }
      const command = `set weight ${backend}/${server} ${weight}`;
      expectSilence(await send(command), command, backend, server, address);
    },

    async setState(backend, server, state) {
      checkName('backend', backend);
      checkName('server', server);
      if (!(AdminState as readonly string[]).includes(state)) {
        throw new RuntimeApiError(RuntimeApiErrorCode.INVALID_ARGUMENT, `state for ${backend}/${server} must be one of ${AdminState.join(', ')}, got '${state}'`);
      }
      const command = `set server ${backend}/${server} state ${state}`;
      expectSilence(await send(command), command, backend, server, address);
    },
  };
}

/**
 * checkName refuses a name HAProxy could not have, before it reaches the command line: a space, ';'
 * (HAProxy's command separator) or a newline would otherwise change the command.
 */
function checkName(what: 'backend' | 'server', name: string): void {
  if (!NAME.test(name)) {
    throw new RuntimeApiError(RuntimeApiErrorCode.INVALID_ARGUMENT, `${what} name '${name}' is not an HAProxy name (letters, digits and - _ . : only)`);
  }
}

function noSuchBackend(backend: string, address: string): RuntimeApiError {
  return new RuntimeApiError(RuntimeApiErrorCode.NO_SUCH_BACKEND, `HAProxy at ${address} has no backend '${backend}'`);
}

/**
 * expectSilence checks the answer to a `set` command: on success HAProxy sends an empty line, on
 * failure one line of text. No bytes at all is neither: the connection closed before any answer.
 */
function expectSilence(answer: string, command: string, backend: string, server: string, address: string): void {
  if (answer === '') throw new RuntimeApiError(RuntimeApiErrorCode.BAD_RESPONSE, `HAProxy's runtime API at ${address} closed the connection without answering '${command}'`);
  const said = answer.trim();
  if (said === '') return;
  if (said === 'No such backend.') throw noSuchBackend(backend, address);
  if (said === 'No such server.') throw new RuntimeApiError(RuntimeApiErrorCode.NO_SUCH_SERVER, `HAProxy at ${address} has no server '${server}' in backend '${backend}'`);
  throw new RuntimeApiError(RuntimeApiErrorCode.COMMAND_REJECTED, `HAProxy at ${address} refused '${command}': ${said}`);
}

/** sendCommand writes one command line and resolves with everything HAProxy answers before it closes. */
function sendCommand(target: RuntimeAddress, address: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = target.kind === 'unix' ? net.createConnection({ path: target.path }) : net.createConnection({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let connected = false;
    let settled = false;
    const fail = (err: RuntimeApiError): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs);
    socket.on('timeout', () => {
      const waiting = connected ? `no answer to '${command}'` : 'no connection';
      fail(new RuntimeApiError(RuntimeApiErrorCode.TIMEOUT, `HAProxy's runtime API at ${address} timed out: ${waiting} within ${timeoutMs} ms`));
    });
    socket.on('connect', () => {
      connected = true;
      // Only write: HAProxy closes once it has answered; half-closing first could cut the answer short.
      socket.write(`${command}\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        fail(new RuntimeApiError(RuntimeApiErrorCode.UNREACHABLE, `cannot reach HAProxy's runtime API at ${address}: ${err.message}`, { cause: err }));
      } else {
        fail(new RuntimeApiError(RuntimeApiErrorCode.UNREACHABLE, `HAProxy's runtime API at ${address} broke off the answer to '${command}': ${err.message}`, { cause: err }));
      }
    });
    socket.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
