import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcDial, noProxyMatches, openTunnel, parseProxyUri, proxyFor } from './proxy.js';

describe('parseProxyUri', () => {
  it('reads host, port (80 by default) and credentials', () => {
    expect(parseProxyUri('http://proxy.example:3128', 'proxy_uri')).toEqual({ host: 'proxy.example', port: 3128, source: 'proxy_uri' });
    expect(parseProxyUri('http://proxy.example/', 'HTTPS_PROXY')).toEqual({ host: 'proxy.example', port: 80, source: 'HTTPS_PROXY' });
    expect(parseProxyUri('http://u%40corp:p%3Ass@[::1]:8080', 'proxy_uri')).toEqual({ host: '::1', port: 8080, auth: 'u@corp:p:ss', source: 'proxy_uri' });
  });
  it('refuses what is not an http proxy URI, naming the setting', () => {
    expect(() => parseProxyUri('proxy:3128', 'proxy_uri')).toThrow('proxy_uri: only http:// proxies are supported, got "proxy:3128"');
    expect(() => parseProxyUri('not a uri', 'HTTPS_PROXY')).toThrow('HTTPS_PROXY: not a URI: "not a uri" (expected http://host:port)');
    expect(() => parseProxyUri('socks5://p:1080', 'proxy_uri')).toThrow('only http:// proxies are supported');
    expect(() => parseProxyUri('http://p:3128/path', 'proxy_uri')).toThrow('proxy_uri: a proxy URI is http://host:port with nothing after it');
  });
});

describe('proxyFor', () => {
  it('prefers proxy_uri to the environment, as the AWS agent does', () => {
    expect(proxyFor('coord.example', 'http://cfg:1', { HTTPS_PROXY: 'http://env:2' })).toMatchObject({ host: 'cfg', port: 1, source: 'proxy_uri' });
  });
  it('reads the environment in order grpc_proxy, https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY', () => {
    expect(proxyFor('c', undefined, { HTTP_PROXY: 'http://h:1', HTTPS_PROXY: 'http://s:2' })).toMatchObject({ host: 's', source: 'HTTPS_PROXY' });
    expect(proxyFor('c', undefined, { HTTP_PROXY: 'http://h:1' })).toMatchObject({ host: 'h', source: 'HTTP_PROXY' });
    expect(proxyFor('c', undefined, { grpc_proxy: 'http://g:3', https_proxy: 'http://s:2' })).toMatchObject({ host: 'g', source: 'grpc_proxy' });
    expect(proxyFor('c', undefined, { HTTPS_PROXY: '' })).toBeUndefined();
    expect(proxyFor('c', undefined, {})).toBeUndefined();
  });
  it('lets NO_PROXY exempt the coordinator from either kind of proxy', () => {
    expect(proxyFor('127.0.0.1', 'http://cfg:1', { NO_PROXY: 'localhost,127.0.0.1' })).toBeUndefined();
    expect(proxyFor('coord.corp', undefined, { HTTPS_PROXY: 'http://env:2', no_proxy: '.corp' })).toBeUndefined();
    expect(proxyFor('coord.example', undefined, { HTTPS_PROXY: 'http://env:2', NO_PROXY: '.corp' })).toMatchObject({ host: 'env' });
  });
  it('names the variable when the environment holds a bad proxy', () => {
    expect(() => proxyFor('c', undefined, { HTTPS_PROXY: 'https://p:1' })).toThrow('HTTPS_PROXY: only http:// proxies are supported');
    // ...unless NO_PROXY exempts the coordinator, which is then reached directly
    expect(proxyFor('c.corp', undefined, { HTTPS_PROXY: 'https://p:1', NO_PROXY: 'corp' })).toBeUndefined();
  });
});

describe('noProxyMatches', () => {
  it('matches domains on label boundaries, not as bare suffixes', () => {
    expect(noProxyMatches('a.example.com', 'example.com')).toBe(true);
    expect(noProxyMatches('example.com', '.example.com')).toBe(true);
    expect(noProxyMatches('badexample.com', 'example.com')).toBe(false);
    expect(noProxyMatches('A.Example.COM', '*.example.com')).toBe(true);
  });
  it('matches addresses exactly and ranges by CIDR, ignoring ports', () => {
    expect(noProxyMatches('127.0.0.1', '127.0.0.1:7181')).toBe(true);
    expect(noProxyMatches('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(noProxyMatches('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(noProxyMatches('127.0.0.10', '127.0.0.1')).toBe(false);
    expect(noProxyMatches('::1', '[::1]')).toBe(true);
    expect(noProxyMatches('fd00::5', 'fd00::/8')).toBe(true);
    expect(noProxyMatches('anything', ' * ')).toBe(true);
    expect(noProxyMatches('h', ',,')).toBe(false);
  });
});

describe('grpcDial', () => {
  it("dials the coordinator directly with grpc-js's own proxy handling off", () => {
    expect(grpcDial('coord:7181', undefined)).toEqual({ target: 'coord:7181', options: { 'grpc.enable_http_proxy': 0 } });
  });
  it('dials the proxy and names the coordinator as the CONNECT target and authority', () => {
    expect(grpcDial('coord:7181', { host: '::1', port: 3128, auth: 'u:p', source: 'proxy_uri' })).toEqual({
      target: '[::1]:3128',
      options: { 'grpc.enable_http_proxy': 0, 'grpc.http_connect_target': 'dns:coord:7181', 'grpc.default_authority': 'coord:7181', 'grpc.http_connect_creds': 'u:p' },
    });
  });
});

describe('openTunnel', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('says which proxy refused which tunnel, and which proxy could not be reached', async () => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    server = http.createServer();
    server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
      seen.push({ url: req.url, auth: req.headers['proxy-authorization'] });
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await expect(openTunnel({ host: '127.0.0.1', port, auth: 'u:p', source: 'proxy_uri' }, 'coord.example', 7182, 5000)).rejects.toThrow(
      `the proxy 127.0.0.1:${port} (proxy_uri) refused a tunnel to coord.example:7182: HTTP 403 Forbidden`,
    );
    expect(seen).toEqual([{ url: 'coord.example:7182', auth: `Basic ${Buffer.from('u:p').toString('base64')}` }]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(openTunnel({ host: '127.0.0.1', port, source: 'HTTPS_PROXY' }, 'c', 1, 5000)).rejects.toThrow(`cannot reach the proxy 127.0.0.1:${port} (HTTPS_PROXY): ECONNREFUSED`);
  });

  it('gives up on a proxy that never answers the CONNECT, naming it and the wait', async () => {
    const held: Socket[] = [];
    server = http.createServer();
    server.on('connect', (_req: http.IncomingMessage, socket: Socket) => held.push(socket)); // answers nothing
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await expect(openTunnel({ host: '127.0.0.1', port, source: 'proxy_uri' }, 'coord', 7182, 200)).rejects.toThrow(
      `the proxy 127.0.0.1:${port} (proxy_uri) did not open a tunnel to coord:7182 within 0.2 s`,
    );
    for (const socket of held) socket.destroy();
  });
});
