import { describe, expect, it } from 'vitest';
import { parseServersState } from './servers-state.js';

// As HAProxy 2.6 answers `show servers state app` (blue-1 running at weight 3; green-1 configured
// `disabled`: forced maintenance plus the configuration flag 0x04).
const HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
const ANSWER = [
  '1',
  HEADER,
  '3 app 1 blue-1 127.0.0.1 2 0 3 3 1 1 0 2 0 0 0 0 - 19101 - 0 0 - - 0',
  '3 app 2 green-1 127.0.0.1 0 5 1 1 1 1 0 0 8 0 0 0 - 19102 - 0 0 - - 0',
  '',
  '',
].join('\n');

const parse = (text: string) => parseServersState(text, 'HAProxy at /run/haproxy.sock');

describe("parsing 'show servers state'", () => {
  it('reads each server by the header’s column names', () => {
    expect(parse(ANSWER)).toEqual([
      { backendId: 3, backend: 'app', serverId: 1, server: 'blue-1', address: '127.0.0.1', port: 19101, operationalState: 'running', adminFlags: 0, maint: false, drain: false, userWeight: 3, initialWeight: 3 },
      { backendId: 3, backend: 'app', serverId: 2, server: 'green-1', address: '127.0.0.1', port: 19102, operationalState: 'stopped', adminFlags: 5, maint: true, drain: false, userWeight: 1, initialWeight: 1 },
    ]);
  });

  it('follows the columns wherever the header puts them', () => {
    const text = ['1', '# srv_name srv_port be_name srv_iweight srv_uweight srv_admin_state srv_op_state srv_addr srv_id be_id extra', 'web-1 8080 app 10 20 8 2 ::1 4 7 x', ''].join('\n');
    expect(parse(text)).toEqual([
      { backendId: 7, backend: 'app', serverId: 4, server: 'web-1', address: '::1', port: 8080, operationalState: 'running', adminFlags: 8, maint: false, drain: true, userWeight: 20, initialWeight: 10 },
    ]);
  });

  it('tells maintenance from drain, and ignores the configuration-only flag', () => {
    const row = (admin: number) => parse(['1', HEADER, `3 app 1 s 127.0.0.1 2 ${admin} 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0`].join('\n'))[0]!;
    expect(row(1)).toMatchObject({ maint: true, drain: false });
    expect(row(0x20)).toMatchObject({ maint: true, drain: false });
    expect(row(0x08)).toMatchObject({ maint: false, drain: true });
    expect(row(0x10)).toMatchObject({ maint: false, drain: true });
    expect(row(0x04 | 0x08)).toMatchObject({ maint: false, drain: true });
  });

  it('gives no servers for a backend without any', () => {
    expect(parse(`1\n${HEADER}\n\n`)).toEqual([]);
  });

  it.each([
    ['an empty answer', '', "unexpected answer to 'show servers state' from HAProxy at /run/haproxy.sock: it is empty"],
    ['an error message', "Can't find backend.\n", "expected format version 1 on the first line, got 'Can't find backend.'"],
    ['another format version', `2\n${HEADER}\n`, "expected format version 1 on the first line, got '2'"],
    ['no header', '1\n3 app 1 s 127.0.0.1 2 0 1 1\n', "expected the '# be_id be_name …' header on the second line, got '3 app 1 s 127.0.0.1 2 0 1 1'"],
    ['a header without a needed column', '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_port\n', 'the header has no column srv_iweight'],
    ['a short server line', `1\n${HEADER}\n3 app 1 s 127.0.0.1 2 0\n`, 'server line 1 has no srv_port (it has 7 fields)'],
    ['a weight that is no number', `1\n${HEADER}\n3 app 1 s 127.0.0.1 2 0 x 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n`, "server line 1: srv_uweight is 'x', not a whole number"],
    ['an unknown operational state', `1\n${HEADER}\n3 app 1 s 127.0.0.1 7 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n`, 'server line 1: srv_op_state 7 is not one of 0–3'],
  ])('says what is wrong with %s', (_case, text, message) => {
    expect(() => parse(text)).toThrow(expect.objectContaining({ name: 'RuntimeApiError', code: 'BAD_RESPONSE', message: expect.stringContaining(message) }));
  });
});
