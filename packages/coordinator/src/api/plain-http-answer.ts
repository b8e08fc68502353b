/**
 * An HTTPS port that is sent plain HTTP (a client given `http://` for the coordinator's API) would
 * only see its connection dropped, which the AWS CLI reports as "Connection was closed before we
 * received a valid response". Instead the port looks at each connection's first byte: a TLS
 * handshake (0x16) goes on to TLS as usual, anything else is answered in plain HTTP with 400 and an
 * error the client prints, in CodeDeploy's JSON shape (requests with X-Amz-Target) or S3's XML.
 */
import type https from 'node:https';
import type net from 'node:net';
import { escapeXml } from './s3-xml.js';

/** A TLS record of type handshake starts every TLS connection. */
const TLS_HANDSHAKE = 0x16;
/** How long a connection may stay silent before its first byte (as Node's TLS handshake timeout). */
const FIRST_BYTE_TIMEOUT_MS = 120_000;

/** PLAIN_HTTP_ERROR is the error code the answer carries. */
export const PLAIN_HTTP_ERROR = 'PlainHttpToHttpsPort';

/** plainHttpMessage says what to do instead; `host` is the request's Host header, if it had one. */
export function plainHttpMessage(host: string | undefined): string {
  const where = host === undefined ? 'https://HOST:PORT' : `https://${host}`;
  return `this port serves HTTPS: use ${where} as the endpoint, and trust the coordinator's CA (aws --ca-bundle <data_dir>/ca/ca.pem, or AWS_CA_BUNDLE)`;
}

/** plainHttpAnswer is the whole HTTP response to a plain request whose head starts `head`. */
export function plainHttpAnswer(head: string): string {
  const host = /^host:[ \t]*([^\r\n]+?)[ \t]*$/im.exec(head)?.[1];
  const message = plainHttpMessage(host);
  const json = /^x-amz-target:/im.test(head);
  const body = json
    ? JSON.stringify({ __type: PLAIN_HTTP_ERROR, message })
    : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${PLAIN_HTTP_ERROR}</Code><Message>${escapeXml(message)}</Message></Error>`;
  const type = json ? 'application/x-amz-json-1.1' : 'application/xml';
  return `HTTP/1.1 400 Bad Request\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * answerPlainHttp puts the first-byte check in front of `server`'s TLS. Connections still waiting
 * for their first byte are ended by the server's closeAllConnections, as its others are.
 */
export function answerPlainHttp(server: https.Server): void {
  const toTls = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  const waiting = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    waiting.add(socket);
    const dropped = (): void => {
      waiting.delete(socket);
      socket.destroy();
    };
    socket.on('error', dropped);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, dropped);
    socket.once('data', (chunk: Buffer) => {
      waiting.delete(socket);
      socket.pause();
      socket.setTimeout(0);
      socket.removeListener('timeout', dropped);
      if (chunk[0] === TLS_HANDSHAKE) {
        socket.removeListener('error', dropped);
        // TLS reads what was read here first (its wrap takes a socket's buffered bytes).
        socket.unshift(chunk);
        for (const listener of toTls) listener.call(server, socket);
      } else {
        socket.end(plainHttpAnswer(chunk.toString('latin1')));
      }
    });
  });
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    for (const socket of waiting) socket.destroy();
    waiting.clear();
    closeAll();
  };
}
