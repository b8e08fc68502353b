/**
 * Checking the simulation's ports before starting anything, so that a port another process holds is
 * reported as one line naming it, not as whatever the coordinator's listener says.
 */
import net from 'node:net';
import { CliError, CliErrorCode } from '../cli-error.js';

/**
 * assertPortFree resolves when `host:port` can be listened on (it listens and closes at once), and
 * throws PORT_IN_USE naming the port and what it was for otherwise. Port 0 is always free.
 */
export function assertPortFree(host: string, port: number, purpose: string, flag: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new CliError(CliErrorCode.PORT_IN_USE, `port ${port} on ${host} (${purpose}) is already in use by another process: stop it or pick another port with ${flag}`));
      else if (err.code === 'EACCES') reject(new CliError(CliErrorCode.USAGE, `port ${port} on ${host} (${purpose}) may not be opened by this user: pick a port above 1023 with ${flag}`));
      else reject(new CliError(CliErrorCode.USAGE, `cannot listen on ${host}:${port} (${purpose}): ${err.code ?? err.message}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
