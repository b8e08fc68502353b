/**
 * Finding the programs fleetdeploy runs but does not ship (moto_server, the AWS CLI, setfacl...), and
 * a free loopback port for a server that cannot be told to choose its own.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * findExecutable is the executable file `command` names: an absolute path as it is, a bare name
 * looked up in `envPath`'s folders in order. Undefined when there is none.
 */
export function findExecutable(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  const candidates = path.isAbsolute(command)
    ? [command]
    : envPath
        .split(path.delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => path.join(dir, command));
  return candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** freeLoopbackPort asks the kernel for a port free on 127.0.0.1 at this moment. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
