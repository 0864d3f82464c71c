/**
 * The deletion job an expired read puts on the `session-cleanup` queue, and
 * what the worker needs to know to run it. The job carries the user id and
 * the session key (a hash of the secret, never the secret) and is run by
 * `SessionStore.deleteExpiredSession`, which deletes only if the session is
 * still expired then.
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
 * One job per expired session however many reads race: BullMQ drops an add
 * whose deduplication id is already waiting. Job ids may not contain ':'.
 */
export function deduplicationIdOf(sessionKey: string): string {
  return `expired-${sessionKey}`;
}
