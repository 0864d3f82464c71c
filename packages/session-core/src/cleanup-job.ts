/**
 * The deletion job an expired read puts on the `session-cleanup` queue, and
 * what the worker needs to know to run it. The job carries the user id and
 * the session key (a hash of the secret, never the secret) and is run by
 * `SessionStore.deleteExpiredSession`, which deletes only if the session is
 * still expired then.
 *
 * The queue stays bounded without a consumer: every job's deduplication id is
 * one of MAX_PENDING_DELETION_JOBS buckets chosen by its session key, and
 * BullMQ drops an add whose id is already pending, so at most that many jobs
 * wait (or are delayed or active) at once, whatever the number of expired
 * reads; finished jobs are trimmed by age and count. An add dropped because
 * another session holds its bucket loses nothing: the worker's sweep deletes
 * every expired session it finds, and the job only makes that sooner.
 */
import type { JobsOptions } from "bullmq";

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
 * The most deletion jobs pending (waiting, delayed or active) at once: the number of deduplication
 * buckets. With a consumer running the queue is nearly empty, and an expired read finds its bucket
 * taken about (pending jobs / this) of the time; that session is then left to the sweep.
 */
export const MAX_PENDING_DELETION_JOBS = 10_000;

/**
 * The deduplication id of a session's deletion job: one job per expired session however many reads
 * race (the same key always lands in the same bucket), and at most MAX_PENDING_DELETION_JOBS ids in
 * all. Job ids may not contain ':'.
 */
export function deduplicationIdOf(sessionKey: string): string {
  return `expired-${bucketOf(sessionKey, MAX_PENDING_DELETION_JOBS)}`;
}

/** FNV-1a over the key's UTF-16 code units, reduced to `buckets`: cheap, and even for hash-like keys. */
function bucketOf(key: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}
