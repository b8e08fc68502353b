/**
 * floodRequest sends one request whose body is far longer than a server should read when it refuses
 * it, the way a hostile or careless client would: headers, then chunks as fast as the socket takes
 * them, while reading whatever comes back. It ends when the server closes the connection or the whole
 * body has gone out, and says how much was sent and what was answered.
 */
import net from 'node:net';

export interface FloodResult {
  /** The answer's status line and headers, as received. */
  head: string;
  /** Body bytes the client got to send before the connection ended. */
  sent: number;
  /** Whether the server closed (or reset) the connection before the whole body was sent. */
  cutOff: boolean;
}

export function floodRequest(port: number, requestHead: string, bodyBytes: number): Promise<FloodResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let received = '';
    let sent = 0;
    let done = false;
    const finish = (cutOff: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ head: received.split('\r\n\r\n')[0] ?? '', sent, cutOff });
    };
    socket.on('data', (d: Buffer) => void (received += d.toString('latin1')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(sent < bodyBytes));
    const pump = (): void => {
      while (!done && sent < bodyBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (!done) setTimeout(() => finish(false), 1_000); // all sent: give the answer a moment
    };
    socket.write(requestHead.replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, '\r\n\r\n'));
    pump();
  });
}
