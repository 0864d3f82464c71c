/**
 * Bounded closes for shutdown. A close that talks to Redis (QUIT, BullMQ's
 * graceful close) waits for a reply that never comes while Redis is down or
 * paused; these helpers give such a close a time limit and, past it, drop
 * the connection instead (`disconnect()`), which also fails every command
 * still waiting on it, so nothing stays stuck behind it.
 */
import type { Cluster, Redis } from "ioredis";

/** Resolves true if `work` settles (either way) within `timeoutMs`, false otherwise; never rejects. */
export async function settlesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * QUIT when Redis answers within `timeoutMs`, else disconnect at once.
 * Resolves true for a clean QUIT, false when it had to disconnect; never rejects.
 */
export async function closeRedis(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === "end") return true;
  if (client.status === "ready" && timeoutMs > 0) {
    let answered = false;
    const quit = client.quit().then(() => {
      answered = true;
    });
    if ((await settlesWithin(quit, timeoutMs)) && answered) return true;
  }
  client.disconnect();
  return false;
}
