/**
 * A parent that dies by SIGKILL cannot stop its children, but the kernel closes its end of their
 * standard input. A daemon started with --stop-on-stdin-close reads stdin to that end and stops.
 */

/** onStdinClosed calls `stop` once standard input reaches its end or fails; what is read is dropped. */
export function onStdinClosed(stop: () => void): void {
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    stop();
  };
  process.stdin.on('data', () => undefined);
  process.stdin.once('end', once);
  process.stdin.once('error', once);
  process.stdin.resume();
}
