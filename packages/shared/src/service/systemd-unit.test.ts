import { describe, expect, it } from 'vitest';
import { execLine, renderUnit } from './systemd-unit.js';

describe('execLine', () => {
  it('quotes what systemd would split or expand, and nothing else', () => {
    expect(execLine(['/usr/bin/node', '/opt/fd/agent.js', 'run', '--config', '/etc/my conf.yml'])).toBe('/usr/bin/node /opt/fd/agent.js run --config "/etc/my conf.yml"');
    expect(execLine(['/bin/x', 'a"b', 'c\\d', ''])).toBe('/bin/x "a\\"b" "c\\\\d" ""');
    expect(execLine(['/bin/x', '100%', '$HOME'])).toBe('/bin/x 100%% $$HOME');
  });
});

describe('renderUnit', () => {
  it('writes the three sections in order, keys in the order given', () => {
    const text = renderUnit({ Unit: [['Description', 'd']], Service: [['Type', 'simple'], ['ExecStart', '/bin/true']], Install: [['WantedBy', 'multi-user.target']] }, 'a test');
    expect(text).toBe('# Written by a test.\n[Unit]\nDescription=d\n\n[Service]\nType=simple\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n');
  });
});
