/** The timing script's statistics, on samples whose answer is known. */

import { seededRandom } from "@multisession/test-kit";
import { describe, expect, it } from "vitest";
import { mannWhitney, medianDifference, normalCdf, quantile, sortedCopy } from "../src/statistics.js";

const noise = (seed: number, n: number, shift = 0) => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => 100 + shift + 20 * Math.log(1 / (1 - random())));
};

describe("statistics", () => {
  it("quantiles interpolate between sorted values", () => {
    const sorted = sortedCopy([5, 1, 3, 2, 4]);
    expect(sorted).toEqual([1, 2, 3, 4, 5]);
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.9)).toBeCloseTo(4.6);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
  });

  it("the normal CDF matches known values", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 5);
  });

  it("two samples of one distribution: the interval holds 0 and the test finds nothing", () => {
    const a = noise(1, 4_000);
    const b = noise(2, 4_000);
    const diff = medianDifference(a, b, { resamples: 500 });
    expect(diff.low).toBeLessThan(0);
    expect(diff.high).toBeGreaterThan(0);
    expect(mannWhitney(a, b).p).toBeGreaterThan(0.01);
  });

  it("a shift of a few percent is found by both", () => {
    const a = noise(3, 4_000, 3);
    const b = noise(4, 4_000);
    const diff = medianDifference(a, b, { resamples: 500 });
    expect(diff.low).toBeGreaterThan(0);
    expect(diff.difference).toBeGreaterThan(diff.low);
    const test = mannWhitney(a, b);
    expect(test.p).toBeLessThan(0.001);
    expect(test.probabilityOfSuperiority).toBeGreaterThan(0.5);
  });

  it("U counts pairs, ties as halves", () => {
    expect(mannWhitney([3, 4], [1, 2]).u).toBe(4);
    expect(mannWhitney([1, 2], [3, 4]).u).toBe(0);
    expect(mannWhitney([2], [2]).u).toBe(0.5);
  });
});
