/**
 * The weight arithmetic of an HAProxy blue/green shift (pure, no I/O).
 *
 * With `balance roundrobin` HAProxy hands each server a share of the new requests proportional to its
 * weight, an integer 0–256. To send p % of the traffic to the green servers, the green weights must
 * add up to p % of all weights, and within each colour every server keeps its initial (configured)
 * proportion. Each colour is scaled as a whole: its largest server gets k (1–256) and every other
 * server round(k · initial / largest). Among all pairs (k_blue, k_green) the one chosen has
 *   1. a realised green share nearest to p (within 0.01 percentage points of the nearest possible),
 *   2. then the smallest distortion of the proportions within a colour,
 *   3. then the largest weights (the least rounding).
 *
 * Worked examples (initial weights → weights for the share):
 *   blue [1, 1], green [1, 1], p = 10  → blue [252, 252], green [28, 28]     green 56/560 = 10 %
 *   blue [3, 1], green [1],    p = 50  → blue [192, 64],  green [256]        green 256/512 = 50 %
 *   blue [1, 1], green [1, 1], p = 0   → blue [256, 256], green [0, 0]
 *   blue [1, 1], green [1, 1], p = 100 → blue [0, 0],     green [256, 256]
 *
 * Not every share is representable. For 0 < p < 100 every server whose initial weight is above 0 keeps
 * at least weight 1: a green server at 0 would never be exercised by the canary, and a blue one at 0
 * would be drained, which is the router's decision to make explicitly (set state drain), not a
 * side effect of rounding. So the green share lies between
 *   greens at 1 each, blues at their largest:  n_green / (n_green + Σ blue at 256)
 *   greens at their largest, blues at 1 each:  Σ green at 256 / (Σ green at 256 + n_blue)
 * and a p outside that range gets the nearest end of it. Example: 50 green and 1 blue server, all of
 * initial weight 1, p = 1 → greens 1 each, blue 256: green share 50/306 = 16.34 %. The realised share
 * is returned as `greenPercent`, so the caller can log it or refuse a plan that misses p by too much.
 */

/** MAX_WEIGHT is the largest absolute weight HAProxy's `set weight` accepts. */
export const MAX_WEIGHT = 256;

/** InitialWeights are each colour's servers' configured weights (0–256), in the caller's order. */
export interface InitialWeights {
  blue: readonly number[];
  green: readonly number[];
}

/** ShareWeights are the absolute weights for one green share, in the order of {@link InitialWeights}. */
export interface ShareWeights {
  blue: number[];
  green: number[];
  /** greenPercent is the share the green servers really get with these weights (0–100). */
  greenPercent: number;
}

/** Scaled is one colour scaled so that its largest server has weight `k`. */
interface Scaled {
  k: number;
  weights: number[];
  sum: number;
  /** distortion is the largest gap between a server's share of its colour and its initial share. */
  distortion: number;
}

/** SHARE_SLACK (percentage points) is how much share accuracy may be traded for undistorted proportions. */
const SHARE_SLACK = 0.01;
const SAME = 1e-12;

/**
 * weightsForGreenShare gives every blue and green server the absolute weight that sends
 * `greenPercent` % of new requests to the green servers (or the nearest representable share, see the
 * module comment). A server with initial weight 0 stays at 0. Throws a RangeError naming the bad input.
 */
export function weightsForGreenShare(initial: InitialWeights, greenPercent: number): ShareWeights {
  checkWeights('blue', initial.blue);
  checkWeights('green', initial.green);
  if (!Number.isFinite(greenPercent) || greenPercent < 0 || greenPercent > 100) {
    throw new RangeError(`green share must be a percentage from 0 to 100, got ${greenPercent}`);
  }
  const zeros = (ws: readonly number[]): number[] => ws.map(() => 0);
  if (greenPercent === 0) {
    const blue = bestAlone('blue', initial.blue);
    return { blue: blue.weights, green: zeros(initial.green), greenPercent: 0 };
  }
  if (greenPercent === 100) {
    const green = bestAlone('green', initial.green);
    return { blue: zeros(initial.blue), green: green.weights, greenPercent: 100 };
  }
  const blues = scalings('blue', initial.blue);
  const greens = scalings('green', initial.green);
  const shareOf = (blue: Scaled, green: Scaled): number => (100 * green.sum) / (green.sum + blue.sum);
  // Two passes: the nearest share first, then, among the pairs within SHARE_SLACK of it, the least
  // distorted and largest. Trading a few thousandths of a point of share for exact proportions is
  // worth it; no traffic measurement can tell such shares apart.
  let nearest = Infinity;
  for (const green of greens) for (const blue of blues) nearest = Math.min(nearest, Math.abs(shareOf(blue, green) - greenPercent));
  let best: { blue: Scaled; green: Scaled; distortion: number; size: number } | undefined;
  for (const green of greens) {
    for (const blue of blues) {
      if (Math.abs(shareOf(blue, green) - greenPercent) > nearest + SHARE_SLACK) continue;
      const candidate = { blue, green, distortion: Math.max(blue.distortion, green.distortion), size: blue.k + green.k };
      if (best === undefined || better(candidate, best)) best = candidate;
    }
  }
  const { blue, green } = best!;
  return { blue: [...blue.weights], green: [...green.weights], greenPercent: shareOf(blue, green) };
}

/** better tells whether a candidate beats another of (nearly) the same share: less distortion, then larger weights. */
function better(a: { distortion: number; size: number }, than: { distortion: number; size: number }): boolean {
  if (Math.abs(a.distortion - than.distortion) > SAME) return a.distortion < than.distortion;
  return a.size > than.size;
}

/** checkWeights rejects anything HAProxy would not have as a configured weight. */
function checkWeights(colour: string, weights: readonly number[]): void {
  weights.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT) {
      throw new RangeError(`${colour} server ${i + 1}: initial weight must be an integer from 0 to ${MAX_WEIGHT}, got ${w}`);
    }
  });
}

/** scalings lists the colour scaled to each k in 1..256; throws if the colour cannot take traffic. */
function scalings(colour: string, initial: readonly number[]): Scaled[] {
  const largest = Math.max(0, ...initial);
  if (largest === 0) {
    throw new RangeError(`no ${colour} server can take traffic: ${initial.length === 0 ? `there are no ${colour} servers` : `every ${colour} server has initial weight 0`}`);
  }
  const total = initial.reduce((a, b) => a + b, 0);
  const out: Scaled[] = [];
  for (let k = 1; k <= MAX_WEIGHT; k++) {
    const weights = initial.map((w) => (w === 0 ? 0 : Math.max(1, Math.round((k * w) / largest))));
    const sum = weights.reduce((a, b) => a + b, 0);
    const distortion = Math.max(...initial.map((w, i) => Math.abs(weights[i]! / sum - w / total)));
    out.push({ k, weights, sum, distortion });
  }
  return out;
}

/** bestAlone is the scaling of a colour that takes all the traffic: least distortion, then largest. */
function bestAlone(colour: string, initial: readonly number[]): Scaled {
  let best: Scaled | undefined;
  for (const s of scalings(colour, initial)) {
    if (best === undefined || better({ distortion: s.distortion, size: s.k }, { distortion: best.distortion, size: best.k })) best = s;
  }
  return best!;
}
