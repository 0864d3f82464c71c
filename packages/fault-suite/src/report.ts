/**
 * Writes `docs/reliability.md`: a hand-written introduction, kept as it is
 * (everything above the marker line), then the figures of the run: one
 * summary table and one section per scenario.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { median } from "./figures.js";
import type { Form, ScenarioResult } from "./scenario.js";

export const GENERATED_MARKER =
  "<!-- Everything below this line is written by `pnpm faults`; edit the text above it. -->";

const DEFAULT_INTRO = `# Reliability

What multisession does when Redis or the worker fails, measured by the fault suite
(\`packages/fault-suite\`) with real processes. See the README, "Fault suite".
`;

export interface RunInfo {
  form: Form;
  command: string;
  startedAt: Date;
  environment: string;
}

export function writeReport(path: string, results: ScenarioResult[], run: RunInfo): void {
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "";
  const at = existing.indexOf(GENERATED_MARKER);
  const intro = at >= 0 ? existing.slice(0, at).trimEnd() : DEFAULT_INTRO.trimEnd();
  writeFileSync(path, `${intro}\n\n${GENERATED_MARKER}\n\n${renderFigures(results, run)}`);
}

export function renderFigures(results: ScenarioResult[], run: RunInfo): string {
  const lines: string[] = [];
  const total = results.reduce((sum, result) => sum + result.violations.length, 0);
  lines.push(
    `Run: \`${run.command}\` (${run.form} form), ${run.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC; ` +
      `${run.environment}. Violations: **${total}**.`,
    "",
    ...markdownTable(
      [
        "scenario",
        "faults injected",
        "operations",
        "acknowledged writes checked",
        "violations",
        "latency in the incident, p50 / max",
        "recovery, median / max",
      ],
      [false, false, true, false, true, false, false],
      results.map((result) => [
        `[${result.name}](#${result.name})`,
        `${result.faults.count} × ${result.faults.what}`,
        String(result.operations),
        checkedText(result),
        String(result.violations.length),
        latencyText(result),
        recoveryText(result),
      ]),
    ),
  );
  for (const result of results) {
    lines.push("", `## ${result.name}`, "", `${result.title}.`, "");
    lines.push(
      `- Command: \`${run.command} --only ${result.name}\` (${result.form} form, ${(result.durationMs / 1000).toFixed(0)} s)`,
      `- Operations: ${result.operations}; faults injected: ${result.faults.count} × ${result.faults.what}`,
      `- Acknowledged writes checked: ${checkedText(result)}`,
      `- Violations: ${result.violations.length}`,
    );
    for (const violation of result.violations.slice(0, 20)) {
      const user = violation.userId === "-" ? "" : ` (user ${violation.userId})`;
      lines.push(`  - ${violation.invariant}: ${violation.detail}${user}`);
    }
    if (result.incident) {
      lines.push(
        `- Calls in flight during the incidents: ${result.incident.calls}, of which ${result.incident.failed} failed ` +
          `(typed); latency p50 ${result.incident.p50Ms} ms, max ${result.incident.maxMs} ms`,
      );
    }
    if (result.recoveryMs.length > 0) lines.push(`- Recovery: ${recoveryText(result)}`);
    for (const note of result.notes) lines.push(`- ${note}`);
    if (result.table && result.table.rows.length > 0) {
      const { header, rows } = result.table;
      lines.push(
        "",
        ...markdownTable(
          header,
          header.map((_, i) => i > 0),
          rows.map((row) => row.map(String)),
        ),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function checkedText(result: ScenarioResult): string {
  const parts = [`${result.checked.liveSessions} live`, `${result.checked.removals} removals`];
  if (result.checked.other) parts.push(result.checked.other);
  return parts.join(", ");
}

function latencyText(result: ScenarioResult): string {
  return result.incident ? `${result.incident.p50Ms} / ${result.incident.maxMs} ms` : "n/a";
}

function recoveryText(result: ScenarioResult): string {
  if (result.recoveryMs.length === 0) return "n/a";
  const sorted = [...result.recoveryMs].sort((a, b) => a - b);
  return `${Math.round(median(sorted))} / ${Math.round(sorted.at(-1) ?? 0)} ms`;
}

/** A Markdown table with its columns padded as the repo's formatter (Biome) writes them, so lint stays clean. */
function markdownTable(header: string[], alignRight: boolean[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(3, title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells
      .map((cell, i) => (alignRight[i] ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join(" | ")} |`;
  const rule = `| ${widths.map((width, i) => (alignRight[i] ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)];
}
