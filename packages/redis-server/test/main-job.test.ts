/**
 * The main job as a user runs it: `pnpm start` from the repository root, on a
 * machine where nothing answers on 127.0.0.1:6379. That machine is a private
 * network namespace (`unshare -n`, which needs root, as CI has) holding
 * nothing but its own loopback, so a shared Redis on this host cannot be
 * found or touched. The job must start its own redis-server, serve a login
 * through the demo API and, on Ctrl-C (SIGINT to the whole process group, as
 * a terminal sends it), exit promptly and quietly, leaving nothing running.
 * The private Redis keeps its data in a temporary MULTISESSION_DATA_DIR, not
 * in the developer's .data/.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** "Promptly": the apps close in milliseconds here; the rest is room for a loaded machine. */
const EXIT_BOUND_MS = 10_000;
const run = promisify(execFile);

let job: ChildProcess;
let output = "";
let netns = "";
let dataDir: string;
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

/** Fails (never skips) when this machine cannot run the test as written. */
function checkPrerequisites(): void {
  const missing = ["unshare", "ip", "nsenter", "pnpm"].filter((tool) => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  const problems = [
    ...(process.getuid?.() === 0 ? [] : ["it must run as root (unshare -n needs it; CI runs as root)"]),
    ...missing.map((tool) =>
      tool === "pnpm"
        ? "pnpm is not on the PATH: run it through pnpm (npx --yes pnpm@12.4.2 test, or pnpm exec vitest)"
        : `${tool} is missing (Debian: apt-get install util-linux iproute2)`,
    ),
  ];
  if (problems.length > 0) throw new Error(`the main-job test cannot run here: ${problems.join("; ")}`);
}

/** PIDs of every process in the job's network namespace, with their command names. */
function processesInNamespace(): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== netns) continue;
      found.push({ pid: Number(entry), comm: readFileSync(`/proc/${entry}/comm`, "utf8").trim() });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** One HTTP request made from inside the job's namespace, where its ports are. */
async function request(method: string, url: string, body?: unknown, token?: string) {
  const script = `
    const [method, url, body, token] = process.argv.slice(1);
    const headers = {};
    if (body) headers["content-type"] = "application/json";
    if (token) headers.authorization = "Bearer " + token;
    try {
      const response = await fetch(url, { method, headers, body: body || undefined });
      console.log(JSON.stringify({ status: response.status, body: await response.text() }));
    } catch (error) {
      console.log(JSON.stringify({ status: 0, body: String(error) }));
    }`;
  const { stdout } = await run("nsenter", [
    `--net=/proc/${job.pid}/ns/net`,
    process.execPath,
    "--input-type=module",
    "-e",
    script,
    method,
    url,
    body === undefined ? "" : JSON.stringify(body),
    token ?? "",
  ]);
  const answer = JSON.parse(stdout) as { status: number; body: string };
  return { status: answer.status, body: answer.body.startsWith("{") ? JSON.parse(answer.body) : answer.body };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (job.exitCode !== null || job.signalCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; output so far:\n${output.slice(-3000)}`);
}

beforeAll(async () => {
  checkPrerequisites();
  dataDir = mkdtempSync(join(tmpdir(), "ms-main-job-"));
  job = spawn("unshare", ["-n", "sh", "-c", "ip link set lo up && exec pnpm start"], {
    cwd: REPO_ROOT,
    // A user's shell: no REDIS_URL, no test runner's variables.
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), MULTISESSION_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, as a terminal's foreground job
  });
  job.stdout?.on("data", (chunk) => (output += chunk));
  job.stderr?.on("data", (chunk) => (output += chunk));
  exit = new Promise((resolve) => job.once("exit", (code, signal) => resolve({ code, signal })));
  await until(() => output.includes("with-redis: Redis at"), "Redis found or started");
  netns = readlinkSync(`/proc/${job.pid}/ns/net`);
  expect(netns).not.toBe(readlinkSync("/proc/self/ns/net"));
  await until(async () => (await request("GET", "http://127.0.0.1:3000/readyz")).status === 200, "the API ready");
  await until(async () => (await request("GET", "http://127.0.0.1:8081/readyz")).status === 200, "the worker ready");
}, 120_000);

afterAll(() => {
  if (job?.pid && job.exitCode === null && job.signalCode === null) process.kill(-job.pid, "SIGKILL");
  if (netns) for (const { pid } of processesInNamespace()) process.kill(pid, "SIGKILL");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("pnpm start where nothing answers on 6379", () => {
  it("starts a private redis-server with its data in MULTISESSION_DATA_DIR", () => {
    expect(output).toContain(`(started here, data in ${join(dataDir, "redis")})`);
    expect(processesInNamespace().map(({ comm }) => comm)).toContain("redis-server");
    expect(existsSync(join(dataDir, "redis", "appendonlydir"))).toBe(true);
  });

  it("serves a login through the demo API, and the token authenticates", async () => {
    const login = await request("POST", "http://127.0.0.1:3000/auth/login", { userId: "ada", password: "demo" });
    expect(login.status).toBe(200);
    const me = await request("GET", "http://127.0.0.1:3000/me", undefined, login.body.token);
    expect(me).toMatchObject({ status: 200, body: { userId: "ada", session: { current: true } } });
  });

  it("stops on Ctrl-C promptly and quietly, leaving nothing running", async () => {
    const before = processesInNamespace().length;
    expect(before).toBeGreaterThanOrEqual(4); // pnpm/with-redis, redis-server, worker, API
    const started = Date.now();
    process.kill(-(job.pid as number), "SIGINT");
    const { code, signal } = await exit;
    const tookMs = Date.now() - started;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(EXIT_BOUND_MS);
    expect(output).toContain("shutdown complete");
    const noisy = output
      .split("\n")
      .filter((line) => /\b(WARN|ERROR|FATAL)\b|ELIFECYCLE|Command failed|^\s+at /.test(line));
    expect(noisy, output).toEqual([]);
    expect(output).not.toMatch(/redis connection error/i);
    expect(processesInNamespace()).toEqual([]);
  });
});
