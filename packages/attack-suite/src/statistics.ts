/**
 * The statistics the timing script reports: quantiles, the difference of
 * medians with a percentile-bootstrap confidence interval, and the
 * Mann-Whitney U test (normal approximation with tie correction), which asks
 * whether one sample tends to be larger than the other without assuming a
 * distribution. Latencies are skewed and heavy-tailed, so medians and ranks,
 * not means.
 */
import { seededRandom } from "@multisession/test-kit";

/** The q-quantile (0..1) of sorted values, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (at - low);
}

export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((x, y) => x - y);
}

function resampledMedian(values: readonly number[], random: () => number, scratch: Float64Array): number {
  for (let i = 0; i < values.length; i++) scratch[i] = values[Math.floor(random() * values.length)] as number;
  scratch.sort();
  const mid = (values.length - 1) / 2;
  return ((scratch[Math.floor(mid)] as number) + (scratch[Math.ceil(mid)] as number)) / 2;
}

export interface MedianDifference {
  /** median(a) - median(b). */
  difference: number;
  /** The central `level` percentile-bootstrap interval of that difference. */
  low: number;
  high: number;
  level: number;
}

/** The difference of medians of a and b with a bootstrap confidence interval (resampling each sample). */
export function medianDifference(
  a: readonly number[],
  b: readonly number[],
  options: { resamples?: number; level?: number; seed?: number } = {},
): MedianDifference {
  const { resamples = 2_000, level = 0.95, seed = 1 } = options;
  const random = seededRandom(seed);
  const scratchA = new Float64Array(a.length);
  const scratchB = new Float64Array(b.length);
  const differences: number[] = [];
  for (let i = 0; i < resamples; i++) {
    differences.push(resampledMedian(a, random, scratchA) - resampledMedian(b, random, scratchB));
  }
  differences.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    difference: quantile(sortedCopy(a), 0.5) - quantile(sortedCopy(b), 0.5),
    low: quantile(differences, tail),
    high: quantile(differences, 1 - tail),
    level,
  };
}

export interface MannWhitney {
  u: number;
  z: number;
  /** Two-sided p-value. */
  p: number;
  /** P(a > b) + P(a = b) / 2: 0.5 means neither tends to be larger. */
  probabilityOfSuperiority: number;
}

/** Mann-Whitney U test of a against b, normal approximation with tie correction. */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitney {
  const n1 = a.length;
  const n2 = b.length;
  const all = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))];
  all.sort((x, y) => x.value - y.value);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && (all[j + 1] as { value: number }).value === (all[i] as { value: number }).value) j++;
    const rank = (i + j) / 2 + 1;
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    for (let k = i; k <= j; k++) if ((all[k] as { first: boolean }).first) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  return { u, z, p: 2 * (1 - normalCdf(Math.abs(z))), probabilityOfSuperiority: u / (n1 * n2) };
}

/** The standard normal CDF (Abramowitz and Stegun 7.1.26 for erf; error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
