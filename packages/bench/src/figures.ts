/** One row of the results: a figure, its baseline from the same run, the ratio and the target. */
export interface Figure {
  figure: string;
  ours: number;
  baseline: number | null;
  baselineName: string;
  unit: string;
  /** ours / baseline. */
  ratio: number | null;
  target: string;
  pass: boolean | null;
  note?: string;
}

/** A contender's result: its median, and its per-round samples when it ran in interleaved rounds. */
export type Measured = number | { median: number; samples: number[] };

const medianOf = (m: Measured) => (typeof m === "number" ? m : m.median);

/**
 * ours ÷ baseline. With per-round samples from one `compare`, the median of
 * the per-round ratios: a round's two measurements ran next to each other, so
 * their ratio is spared most of the machine's drift over a run.
 */
export function ratioOf(ours: Measured, baseline: Measured): number {
  if (typeof ours === "number" || typeof baseline === "number" || ours.samples.length !== baseline.samples.length) {
    return medianOf(ours) / medianOf(baseline);
  }
  const ratios = ours.samples
    .map((sample, round) => sample / (baseline.samples[round] as number))
    .sort((a, b) => a - b);
  const mid = Math.floor(ratios.length / 2);
  return ratios.length % 2 ? (ratios[mid] as number) : ((ratios[mid - 1] as number) + (ratios[mid] as number)) / 2;
}

export function throughputFigure(
  figure: string,
  ours: Measured,
  baselineName: string,
  baseline: Measured,
  minRatio: number,
): Figure {
  const ratio = ratioOf(ours, baseline);
  return {
    figure,
    ours: medianOf(ours),
    baseline: medianOf(baseline),
    baselineName,
    unit: "ops/s",
    ratio,
    target: `≥ ${minRatio}×`,
    pass: ratio >= minRatio,
  };
}
