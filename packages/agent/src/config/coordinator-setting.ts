/**
 * The `coordinator:` setting: one `host:port`, a YAML list of them, or a comma-separated string
 * (`a:7181,b:7181`, as a command-line flag gives it). Each entry is one coordinator replica; a host
 * name that resolves to several addresses counts as several (connection/endpoints.ts).
 */

/** CoordinatorSetting is what the setting's text gave: the addresses, or what was wrong with each entry. */
export interface CoordinatorSetting {
  addresses?: readonly string[];
  problems: string[];
}

/**
 * readCoordinatorSetting reads the setting's raw YAML value (undefined, null and '' mean unset).
 * Problems name the key, and for a list or comma-separated string the entry's index from 0:
 * `coordinator[2]: expected host:port, got "x"`.
 */
export function readCoordinatorSetting(value: unknown): CoordinatorSetting {
  if (value === undefined || value === null || value === '') return { problems: [] };
  let entries: unknown[];
  if (Array.isArray(value)) entries = value;
  else if (typeof value === 'string' && value.includes(',')) entries = value.split(',').map((e) => e.trim());
  else {
    // One address: the message stays the one a single-address configuration always had.
    return typeof value === 'string' && isHostPort(value) ? { addresses: [value], problems: [] } : { problems: [`coordinator: expected host:port, got ${JSON.stringify(value)}`] };
  }
  if (entries.length === 0) return { problems: ['coordinator: expected host:port or a list of them, got an empty list'] };
  const problems: string[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (typeof entry !== 'string' || !isHostPort(entry)) {
      problems.push(`coordinator[${i}]: expected host:port, got ${JSON.stringify(entry)}`);
      return;
    }
    const first = seen.get(entry.toLowerCase());
    if (first !== undefined) problems.push(`coordinator[${i}]: ${entry} is already coordinator[${first}]`);
    else seen.set(entry.toLowerCase(), i);
  });
  return problems.length > 0 ? { problems } : { addresses: entries as string[], problems };
}

/** isHostPort accepts `host:port` and `[v6]:port` with a port from 1 to 65535. */
export function isHostPort(v: string): boolean {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}
