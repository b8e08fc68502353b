/**
 * How V8 compiles the JavaScript of a one-shot `fleetdeploy-agent local` run.
 *
 * Design decision: a local run is over in a second or less, before TurboFan's optimised code pays
 * for compiling it. On the 2,000-file zip of bench:agent-install, TurboFan's compile threads were 15%
 * of the install's CPU time (perf, by symbol), on hot code that is mostly glue around native calls
 * (yauzl's central-directory records, zlib's and fs's JavaScript wrappers); capping V8 at its
 * baseline tiers took about 70 ms of 600 of CPU time off that install, and left the 2,000-file tgz
 * install's unchanged. The daemon (`run`) is long-lived and keeps V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * capTieringForOneShotRun stops V8 from optimising with TurboFan from here on, process-wide (worker
 * threads included); Maglev, where the V8 has it enabled, and Sparkplug still compile hot code. Call
 * it first thing in a short-lived command, before any code is hot.
 */
export function capTieringForOneShotRun(): void {
  setFlagsFromString('--max-opt=2');
}
