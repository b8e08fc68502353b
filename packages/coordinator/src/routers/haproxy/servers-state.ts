/**
 * Parses the answer to HAProxy's `show servers state [<backend>]` (pure).
 *
 * The answer is format version "1", a header line naming the columns, then one line per server:
 *
 *   1
 *   # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight ... srv_port ...
 *   3 app 1 blue-1 127.0.0.1 2 0 3 3 ... 8081 ...
 *
 * Columns are looked up by the header's names, not by position: HAProxy has added columns between
 * releases (srv_port, srvrecord, srv_use_ssl, ...) and may add more.
 */
import { RuntimeApiError, RuntimeApiErrorCode } from './runtime-error.js';

/** OperationalState is what HAProxy's checks say of a server (srv_op_state 0–3). */
export const OperationalState = ['stopped', 'starting', 'running', 'stopping'] as const;
export type OperationalState = (typeof OperationalState)[number];

/** ADMIN_MAINT are the srv_admin_state bits that put a server in maintenance (forced, inherited, DNS resolution). */
export const ADMIN_MAINT = 0x01 | 0x02 | 0x20;
/** ADMIN_DRAIN are the srv_admin_state bits that drain a server (forced or inherited). */
export const ADMIN_DRAIN = 0x08 | 0x10;

/** ServerState is one server of a `show servers state` answer. */
export interface ServerState {
  backendId: number;
  backend: string;
  serverId: number;
  server: string;
  address: string;
  port: number;
  operationalState: OperationalState;
  /** adminFlags is srv_admin_state as HAProxy gives it (a bit set; `maint` and `drain` read it). */
  adminFlags: number;
  /** maint: set to maintenance (`set server … state maint`, or inherited); gets no traffic. */
  maint: boolean;
  /** drain: set to drain; keeps its connections and persistent sessions but gets no new ones. */
  drain: boolean;
  /** userWeight is the current weight (srv_uweight), what `set weight` changes. */
  userWeight: number;
  /** initialWeight is the weight in the configuration (srv_iweight). */
  initialWeight: number;
}

const COLUMNS = ['be_id', 'be_name', 'srv_id', 'srv_name', 'srv_addr', 'srv_op_state', 'srv_admin_state', 'srv_uweight', 'srv_iweight', 'srv_port'] as const;
type Column = (typeof COLUMNS)[number];

/** parseServersState reads a `show servers state` answer; `source` names where it came from in errors. */
export function parseServersState(text: string, source: string): ServerState[] {
  const bad = (why: string): RuntimeApiError => new RuntimeApiError(RuntimeApiErrorCode.BAD_RESPONSE, `unexpected answer to 'show servers state' from ${source}: ${why}`);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const version = lines[0];
  if (version !== '1') throw bad(version === undefined ? 'it is empty' : `expected format version 1 on the first line, got '${clip(version)}'`);
  const header = lines[1];
  if (header === undefined || !header.startsWith('#')) throw bad(`expected the '# be_id be_name …' header on the second line, got '${clip(header ?? '')}'`);
  const names = header.slice(1).trim().split(/\s+/);
  const index = {} as Record<Column, number>;
  for (const column of COLUMNS) {
    const i = names.indexOf(column);
    if (i < 0) throw bad(`the header has no column ${column}`);
    index[column] = i;
  }
  return lines.slice(2).map((line, n) => {
    const fields = line.split(/\s+/);
    const at = (column: Column): string => {
      const value = fields[index[column]];
      if (value === undefined) throw bad(`server line ${n + 1} has no ${column} (it has ${fields.length} fields): '${clip(line)}'`);
      return value;
    };
    const int = (column: Column): number => {
      const value = at(column);
      if (!/^\d+$/.test(value)) throw bad(`server line ${n + 1}: ${column} is '${clip(value)}', not a whole number`);
      return Number(value);
    };
    const op = int('srv_op_state');
    const operationalState = OperationalState[op];
    if (operationalState === undefined) throw bad(`server line ${n + 1}: srv_op_state ${op} is not one of 0–3`);
    const adminFlags = int('srv_admin_state');
    return {
      backendId: int('be_id'),
      backend: at('be_name'),
      serverId: int('srv_id'),
      server: at('srv_name'),
      address: at('srv_addr'),
      port: int('srv_port'),
      operationalState,
      adminFlags,
      maint: (adminFlags & ADMIN_MAINT) !== 0,
      drain: (adminFlags & ADMIN_DRAIN) !== 0,
      userWeight: int('srv_uweight'),
      initialWeight: int('srv_iweight'),
    };
  });
}

/** clip keeps quoted HAProxy text short enough for an error message. */
function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
