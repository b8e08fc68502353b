/**
 * systemd unit files, written from data (pure): the daemons' install-service commands describe their
 * unit as sections of key/value lines, and this renders them with systemd's quoting.
 */

/** UnitSections is a unit file: [Unit], [Service], [Install], each a list of key/value lines in order. */
export interface UnitSections {
  Unit: ReadonlyArray<readonly [string, string]>;
  Service: ReadonlyArray<readonly [string, string]>;
  Install: ReadonlyArray<readonly [string, string]>;
}

/**
 * execLine joins a command and its arguments for ExecStart: an argument with a space, a quote, a
 * backslash or a `$` or `%` (systemd's variable and specifier characters) is double-quoted with those
 * escaped. Worked example: ['/usr/bin/node', '/opt/fd/agent.js', 'run', '--config', '/etc/my conf.yml']
 * → `/usr/bin/node /opt/fd/agent.js run --config "/etc/my conf.yml"`.
 */
export function execLine(argv: readonly string[]): string {
  return argv
    .map((a) => {
      const escaped = a.replaceAll('%', '%%').replaceAll('$', '$$$$');
      if (!/[\s"'\\]/.test(a) && a !== '') return escaped;
      return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    })
    .join(' ');
}

/** renderUnit writes the unit file text, with a first comment line naming what wrote it. */
export function renderUnit(sections: UnitSections, writtenBy: string): string {
  const part = (name: keyof UnitSections): string[] => [`[${name}]`, ...sections[name].map(([k, v]) => `${k}=${v}`), ''];
  return [`# Written by ${writtenBy}.`, ...part('Unit'), ...part('Service'), ...part('Install')].join('\n');
}
