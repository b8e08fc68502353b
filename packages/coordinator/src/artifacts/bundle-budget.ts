/**
 * The bundle limits applied as a bundle is read: each entry's declared size and the inflated stream
 * are counted as they come, so a bomb is refused at the first header or chunk past a limit. Pure.
 */
import { entryCountProblem, ratioProblem, totalBytesProblem } from '@fleetdeploy/shared';
import type { BundleLimits } from '@fleetdeploy/shared';

/** BundleLimitError says a bundle is refused because it passes one of the bundle limits (named in the message). */
export class BundleLimitError extends Error {
  override name = 'BundleLimitError';
}

/** BundleBudget applies the agent's bundle limits to what the coordinator reads of a bundle, as it goes. */
export class BundleBudget {
  private entries = 0;
  private declared = 0;
  private expanded = 0;

  constructor(
    private readonly limits: BundleLimits,
    private readonly bundleBytes: number,
  ) {}

  /** declareEntryCount judges a zip's announced entry count before any entry is read. */
  declareEntryCount(count: number): void {
    this.fail(entryCountProblem(count, this.limits));
  }

  /** admit counts one entry and the bytes its header declares (judged before its body is inflated). */
  admit(size: number): void {
    this.entries += 1;
    this.fail(entryCountProblem(this.entries, this.limits));
    this.declared += size;
    this.fail(totalBytesProblem(this.declared, this.limits, true));
    this.judgeRatio();
  }

  /** noteExpanded records how far the inflated stream has come, headers and padding included. */
  noteExpanded(bytes: number): void {
    this.expanded = bytes;
    this.fail(totalBytesProblem(this.expanded, this.limits, true));
    this.judgeRatio();
  }

  private judgeRatio(): void {
    this.fail(ratioProblem(Math.max(this.declared, this.expanded), this.bundleBytes, this.limits));
  }

  private fail(problem: string | undefined): void {
    if (problem !== undefined) throw new BundleLimitError(problem);
  }
}
