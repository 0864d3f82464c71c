/**
 * Writes the results: a JSON file of every figure, and the results section of
 * docs/benchmarks.md (between its markers; the hand-written notes around it
 * stay as they are).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./figures.js";
import type { Mode } from "./modes.js";

export interface RunInfo {
  mode: Mode;
  command: string;
  startedAt: string;
  durationS: number;
  redisVersion: string;
  redisArgs: string[];
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
}

export function runInfo(
  mode: Mode,
  command: string,
  startedAt: Date,
  redisVersion: string,
  redisArgs: string[],
): RunInfo {
  return {
    mode,
    command,
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    redisVersion,
    redisArgs,
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

const START = "<!-- results:start -->";
const END = "<!-- results:end -->";

const number = (value: number | null, unit: string) => {
  if (value === null || Number.isNaN(value)) return "–";
  const digits = unit === "ms" || unit === "µs" ? 2 : 0;
  return `${value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
};

export function markdown(figures: Figure[], info: RunInfo): string {
  const rows = figures.map((f) => {
    const verdict = f.pass === null ? "reported" : f.pass ? "met" : "**missed**";
    const ratio = f.ratio === null ? "–" : `${f.ratio.toFixed(2)}×`;
    const note = f.note ? ` (${f.note})` : "";
    return `| ${f.figure} | ${number(f.ours, f.unit)} | ${f.baselineName}: ${number(f.baseline, f.unit)} | ${ratio} | ${f.target} | ${verdict}${note} |`;
  });
  return [
    START,
    `Run: \`${info.command}\` (${info.mode} mode), ${info.startedAt}, ${info.durationS} s.`,
    `Machine: ${info.cores} × ${info.cpu}, ${info.memoryGiB} GiB; Node ${info.node}; Redis ${info.redisVersion} on loopback`,
    `(\`redis-server ${info.redisArgs.join(" ")}\`), started by the bench. Medians of interleaved rounds; a ratio (ours ÷ baseline) is the median of the per-round ratios.`,
    "",
    "| figure | session-core | baseline (same run) | ratio | target | verdict |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    END,
  ].join("\n");
}

export function writeReport(
  outDir: string,
  figures: Figure[],
  info: RunInfo,
): { markdownPath: string; jsonPath: string } {
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, "benchmarks.json");
  writeFileSync(jsonPath, `${JSON.stringify({ run: info, figures }, null, 2)}\n`);
  const markdownPath = join(outDir, "benchmarks.md");
  const section = markdown(figures, info);
  const current = existsSync(markdownPath) ? readFileSync(markdownPath, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(markdownPath, next);
  return { markdownPath, jsonPath };
}
