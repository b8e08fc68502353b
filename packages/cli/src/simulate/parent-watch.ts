/**
 * `npx fleetdeploy simulate` runs under a wrapper; when the wrapper is killed by SIGKILL nothing
 * tells the simulation, which would run on, orphaned. The kernel gives an orphan a new parent (init
 * or a subreaper), so a change of the parent's pid is the sign to stop.
 */

/** PARENT_CHECK_MS is how often the parent's pid is compared. */
const PARENT_CHECK_MS = 500;

/** watchParent calls `gone` once when this process's parent changes; the returned function stops watching. */
export function watchParent(gone: () => void, intervalMs = PARENT_CHECK_MS): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
