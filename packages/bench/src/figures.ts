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

export function throughputFigure(
  figure: string,
  ours: number,
  baselineName: string,
  baseline: number,
  minRatio: number,
): Figure {
  const ratio = ours / baseline;
  return {
    figure,
    ours,
    baseline,
    baselineName,
    unit: "ops/s",
    ratio,
    target: `≥ ${minRatio}×`,
    pass: ratio >= minRatio,
  };
}
