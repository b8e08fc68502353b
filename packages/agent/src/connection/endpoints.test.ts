import { describe, expect, it } from 'vitest';
import { endpointChannelOptions } from './channel.js';
import { coordinatorEntries, endpointName, resolveEndpoints } from './endpoints.js';
import type { HostLookup } from './endpoints.js';

/** A resolver over a fixed table; a name not in it fails as getaddrinfo's ENOTFOUND does. */
function table(entries: Record<string, string[]>): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string): Promise<string[]> => {
    asked.push(host);
    const found = entries[host];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  return Object.assign(lookup, { asked });
}

const direct = () => undefined;

describe('coordinator endpoints', () => {
  it('counts each address of a round-robin name as an endpoint, in configured order, and dials an address two names share once', async () => {
    const entries = coordinatorEntries(['coord.example:7181', '10.0.0.9:7181', 'other.example:7181'], direct);
    const lookup = table({ 'coord.example': ['10.0.0.1', '10.0.0.2', 'fd00::3'], 'other.example': ['10.0.0.2'] });
    const endpoints = await resolveEndpoints(entries, lookup);
    expect(endpoints.map((e) => [e.entry.address, e.dial])).toEqual([
      ['coord.example:7181', '10.0.0.1:7181'],
      ['coord.example:7181', '10.0.0.2:7181'],
      ['coord.example:7181', '[fd00::3]:7181'],
      ['10.0.0.9:7181', '10.0.0.9:7181'],
    ]);
    expect(lookup.asked).toEqual(['coord.example', 'other.example']); // an IP address is not looked up
    expect(endpoints.map(endpointName)).toEqual(['coord.example:7181 (10.0.0.1:7181)', 'coord.example:7181 (10.0.0.2:7181)', 'coord.example:7181 ([fd00::3]:7181)', '10.0.0.9:7181']);
  });

  it('looks the names up again at each round, so a changed DNS answer changes the set', async () => {
    const answers: Record<string, string[]> = { 'coord.example': ['10.0.0.1'] };
    const entries = coordinatorEntries(['coord.example:7181'], direct);
    const lookup: HostLookup = async (host) => answers[host]!;
    expect((await resolveEndpoints(entries, lookup)).map((e) => e.dial)).toEqual(['10.0.0.1:7181']);
    answers['coord.example'] = ['10.0.0.4', '10.0.0.5'];
    expect((await resolveEndpoints(entries, lookup)).map((e) => e.dial)).toEqual(['10.0.0.4:7181', '10.0.0.5:7181']);
  });

  it('keeps a name that does not resolve as one endpoint dialled by name, and never looks up what a proxy reaches', async () => {
    const proxy = { host: '127.0.0.1', port: 3128, source: 'proxy_uri' };
    const entries = coordinatorEntries(['gone.example:7181', 'far.example:7181'], (host) => (host === 'far.example' ? proxy : undefined));
    const lookup = table({ 'far.example': ['10.0.0.7'] });
    const endpoints = await resolveEndpoints(entries, lookup);
    expect(endpoints.map((e) => e.dial)).toEqual(['gone.example:7181', 'far.example:7181']);
    expect(lookup.asked).toEqual(['gone.example']);
    expect(endpoints[1]!.entry.proxy).toEqual(proxy);
  });
});

describe('dialling an endpoint', () => {
  it('dials a looked-up address but checks the certificate against the configured host name', async () => {
    const [endpoint] = await resolveEndpoints(coordinatorEntries(['coord.example:7181'], direct), table({ 'coord.example': ['10.0.0.1'] }));
    expect(endpointChannelOptions(endpoint!)).toEqual({
      target: '10.0.0.1:7181',
      options: { 'grpc.enable_http_proxy': 0, 'grpc.ssl_target_name_override': 'coord.example', 'grpc.default_authority': 'coord.example:7181' },
    });
  });
  it('dials an address configured as such, or one through a proxy, as before', async () => {
    const proxy = { host: '127.0.0.1', port: 3128, source: 'proxy_uri' };
    const [ip, proxied] = await resolveEndpoints(coordinatorEntries(['10.0.0.1:7181', 'coord.example:7181'], (h) => (h === 'coord.example' ? proxy : undefined)), table({}));
    expect(endpointChannelOptions(ip!)).toEqual({ target: '10.0.0.1:7181', options: { 'grpc.enable_http_proxy': 0 } });
    expect(endpointChannelOptions(proxied!)).toEqual({
      target: '127.0.0.1:3128',
      options: { 'grpc.enable_http_proxy': 0, 'grpc.http_connect_target': 'dns:coord.example:7181', 'grpc.default_authority': 'coord.example:7181' },
    });
  });
});
