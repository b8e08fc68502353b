import { describe, expect, it } from 'vitest';
import { plainHttpAnswer, PLAIN_HTTP_ERROR } from './plain-http-answer.js';

/** parse splits a raw HTTP response into its status line, headers and body. */
function parse(raw: string): { status: string; headers: Record<string, string>; body: string } {
  const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
  const [status, ...lines] = head.split('\r\n');
  return { status: status!, headers: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])), body };
}

describe('the answer to plain HTTP on the HTTPS port', () => {
  it('is CodeDeploy\'s JSON error for a request with X-Amz-Target, naming the https:// URL of its Host', () => {
    const r = parse(plainHttpAnswer('POST / HTTP/1.1\r\nHost: 10.1.2.3:7180\r\nX-Amz-Target: CodeDeploy_20141006.ListApplications\r\n\r\n{}'));
    expect(r.status).toBe('HTTP/1.1 400 Bad Request');
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(r.headers.connection).toBe('close');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    expect(JSON.parse(r.body)).toEqual({ __type: PLAIN_HTTP_ERROR, message: expect.stringMatching(/^this port serves HTTPS: use https:\/\/10\.1\.2\.3:7180 as the endpoint/) });
  });

  it('is S3\'s XML error otherwise, escaped, and names a placeholder when there is no Host', () => {
    const r = parse(plainHttpAnswer('GET /bucket/key HTTP/1.0\r\n\r\n'));
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>PlainHttpToHttpsPort<\/Code><Message>this port serves HTTPS: use https:\/\/HOST:PORT as the endpoint, and trust the coordinator&apos;s CA \(aws --ca-bundle &lt;data_dir&gt;\/ca\/ca\.pem, or AWS_CA_BUNDLE\)<\/Message><\/Error>$/);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  });
});
