/**
 * Runs a command to completion for the pack, install and smoke steps, with
 * its output kept for the failure message. The environment is the caller's
 * minus what pnpm sets for its own child processes (`npm_*`, `PNPM_*`), so a
 * nested `npm install` reads no pnpm setting as its own.
 */
import { execFile } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|pnpm_)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: cleanEnv(options.env),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`${command} ${args.join(" ")} failed in ${options.cwd}: ${error.message}\n${stdout}\n${stderr}`),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
