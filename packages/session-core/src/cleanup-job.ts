/**
 * The deletion job an expired read puts on the `session-cleanup` queue, and
 * what the worker needs to know to run it. The job carries the user id and
 * the session key (a hash of the secret, never the secret) and is run by
 * `SessionStore.deleteExpiredSession`, which deletes only if the session is
 * still expired then.
 *
 * The queue stays bounded without a consumer: an expired read asks
 * `deletionJobAdmitted` first, and once the store's maxPendingDeletionJobs are
 * pending no more are added. Nothing is lost by that: the worker's sweep
 * deletes every expired session it finds, the job only makes it sooner.
 * Finished jobs are trimmed by age and count.
 */
import type { JobsOptions, Queue } from "bullmq";

export { CLEANUP_QUEUE_NAME } from "./options.js";

export const DELETE_EXPIRED_SESSION_JOB = "delete-expired-session";

export interface DeleteExpiredSessionJobData {
  userId: string;
  sessionKey: string;
  /** When the session expired, as the read saw it; for logs and dashboards. */
  expiresAt: number;
}

/** Retries with backoff; finished jobs trimmed by age and count so the queue stays bounded. */
export const DELETE_EXPIRED_SESSION_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 5,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 60 * 60, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 60 * 60, count: 10_000 },
});

/**
 * One job per expired session however many reads race: BullMQ drops an add
 * whose deduplication id is already waiting. Job ids may not contain ':'.
 */
export function deduplicationIdOf(sessionKey: string): string {
  return `expired-${sessionKey}`;
}

/** How long a process trusts the pending count it read; its own adds meanwhile are counted on top. */
export const PENDING_COUNT_TTL_MS = 1_000;

interface PendingCount {
  readAt: number;
  /** The queue's pending jobs when read; null when the read failed. */
  count: Promise<number | null>;
  /** Session keys whose jobs this process admitted since. */
  admitted: Set<string>;
}

const pendingCounts = new WeakMap<Queue, PendingCount>();

/**
 * Whether an expired read may enqueue the deletion job of `sessionKey` on `queue`: false once the
 * queue holds `limit` pending jobs (the store's maxPendingDeletionJobs). The count costs one call per queue and second
 * in each process (PENDING_COUNT_TTL_MS), plus the sessions the process admitted since (a session
 * read again counts once: BullMQ deduplicates its job), so a burst of expired reads adds no Redis
 * work and one process never goes past the bound; several processes together may pass it by what
 * each admits within a second. A count that fails admits (the add then fails or succeeds on its
 * own). Call it within the enqueue's time limit: on a connection that waits out outages, so does
 * the count.
 */
export async function deletionJobAdmitted(queue: Queue, sessionKey: string, limit: number): Promise<boolean> {
  const now = Date.now();
  let entry = pendingCounts.get(queue);
  if (entry === undefined || now - entry.readAt >= PENDING_COUNT_TTL_MS) {
    entry = { readAt: now, count: queue.count().catch(() => null), admitted: new Set() };
    pendingCounts.set(queue, entry);
  }
  const count = await entry.count;
  if (entry.admitted.has(sessionKey)) return true;
  if (count !== null && count + entry.admitted.size >= limit) return false;
  entry.admitted.add(sessionKey);
  return true;
}
