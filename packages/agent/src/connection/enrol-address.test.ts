import { describe, expect, it } from 'vitest';
import { plainGrpcDetails, resolveEnrolAddress, wrongPortOf } from './enrol-address.js';

describe('resolveEnrolAddress', () => {
  it('takes HOST:PORT as given, a HOST alone at port 7182, and without the flag the agents\' port + 1', () => {
    expect(resolveEnrolAddress('coord.example:9000', undefined, 'a.yml')).toBe('coord.example:9000');
    expect(resolveEnrolAddress('coord.example', ['10.0.0.1:7181'], 'a.yml')).toBe('coord.example:7182');
    expect(resolveEnrolAddress(undefined, ['10.0.0.1:7181'], 'a.yml')).toBe('10.0.0.1:7182');
    expect(resolveEnrolAddress(undefined, ['[::1]:8001'], 'a.yml')).toBe('[::1]:8002');
    expect(() => resolveEnrolAddress(undefined, undefined, 'a.yml')).toThrow(/--coordinator: give the coordinator's enrolment address .*\(a\.yml\)/);
    expect(() => resolveEnrolAddress('coord:99999', undefined, 'a.yml')).toThrow(/expected host:port/);
  });
  it('with several coordinators configured, enrols next to the first unless --coordinator says otherwise', () => {
    expect(resolveEnrolAddress(undefined, ['coord-a.example:7181', 'coord-b.example:9181'], 'a.yml')).toBe('coord-a.example:7182');
    expect(resolveEnrolAddress('coord-b.example', ['coord-a.example:7181', 'coord-b.example:9181'], 'a.yml')).toBe('coord-b.example:7182');
    expect(resolveEnrolAddress('coord-b.example:9182', ['coord-a.example:7181', 'coord-b.example:9181'], 'a.yml')).toBe('coord-b.example:9182');
  });
});

describe('reading a failed connection', () => {
  it('tells the API port from the agents\' port, and drops grpc-js\'s empty resolution note', () => {
    const details = 'No connection established. Last error: 80CC:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n (2026-12-07T00:00:33.812Z). Resolution note: ';
    expect(wrongPortOf(details)).toBe('agents');
    expect(wrongPortOf('ERR_SSL_WRONG_VERSION_NUMBER write EPROTO')).toBe('api'); // the API with --plaintext-api
    // the HTTPS API: its TLS offers HTTP/1.1 only, so a gRPC (h2) handshake is refused
    expect(wrongPortOf('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL C0F7:error:0A000460:SSL routines:ssl3_read_bytes:tlsv1 alert no application protocol')).toBe('api');
    expect(wrongPortOf('ECONNREFUSED')).toBeUndefined();
    expect(plainGrpcDetails(details)).toMatch(/SSL alert number 116$/);
  });
});
