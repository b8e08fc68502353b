import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';

describe('API TLS settings', () => {
  it('default to HTTPS with no more names and no operator certificate', () => {
    const c = resolveConfig(undefined, '', {});
    expect(c.plaintextApi).toBe(false);
    expect(c.apiTlsNames).toEqual([]);
    expect(c.apiTlsCert).toBeUndefined();
    expect(c.apiTlsKey).toBeUndefined();
  });

  it('read plaintext_api, api_tls_names (a list of DNS names and IP addresses) and the certificate files from the file and flags', () => {
    const file = resolveConfig('plaintext_api: true\napi_tls_names: [deploy.example.com, "*.fleet.example.com", 10.0.0.5, "fd00::5"]\napi_tls_cert: /etc/fd/api.pem\napi_tls_key: /etc/fd/api-key.pem\n', 'c.yml', {});
    expect(file.plaintextApi).toBe(true);
    expect(file.apiTlsNames).toEqual(['deploy.example.com', '*.fleet.example.com', '10.0.0.5', 'fd00::5']);
    expect([file.apiTlsCert, file.apiTlsKey]).toEqual(['/etc/fd/api.pem', '/etc/fd/api-key.pem']);
    // a flag repeated gives a list; one given once is one name
    expect(resolveConfig(undefined, '', { apiTlsNames: ['a.example', 'b.example'] }).apiTlsNames).toEqual(['a.example', 'b.example']);
    expect(resolveConfig('api_tls_names: one.example\n', 'c.yml', {}).apiTlsNames).toEqual(['one.example']);
    expect(resolveConfig(undefined, '', { plaintextApi: true }).plaintextApi).toBe(true);
  });

  it('refuse a name that is not a host name or IP address, naming the file or flag and the value', () => {
    expect(() => resolveConfig('api_tls_names: [deploy.example.com:443]\n', 'c.yml', {})).toThrow(ConfigError);
    expect(() => resolveConfig('api_tls_names: [deploy.example.com:443]\n', 'c.yml', {})).toThrow(/^c\.yml: api_tls_names: "deploy\.example\.com:443" is not a host name or IP address$/);
    expect(() => resolveConfig('api_tls_names: [bad name]\n', 'c.yml', {})).toThrow(/c\.yml: api_tls_names: "bad name" is not a host name/);
    expect(() => resolveConfig('api_tls_names: {a: b}\n', 'c.yml', {})).toThrow(/^c\.yml: api_tls_names: expected a list of host names or IP addresses$/);
    expect(() => resolveConfig(undefined, '', { apiTlsNames: ['-leading.example'] })).toThrow(/^--api-tls-name: "-leading\.example" is not a host name/);
    expect(() => resolveConfig('plaintext_api: maybe\n', 'c.yml', {})).toThrow(/c\.yml: plaintext_api: expected true or false/);
    expect(() => resolveConfig('api_tls_cert: ""\n', 'c.yml', {})).toThrow(/c\.yml: api_tls_cert: expected a non-empty text/);
  });
});
