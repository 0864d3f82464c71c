/**
 * Expired-read job throughput: N expired sessions are read (each read rejects
 * and enqueues one deletion job), then the worker's consumer drains them;
 * against a bare BullMQ worker with a no-op processor draining the same
 * number of the same jobs on the same queue setup. Same concurrency.
 */
import {
  activityShardKey,
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  DELETE_EXPIRED_SESSION_JOB_OPTIONS,
  deduplicationIdOf,
  sessionKeyOf,
  slotOf,
  userKey,
} from "@multisession/session-core";
import { createCleanupWorker, createMetrics } from "@multisession/worker";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { type BenchContext, seed } from "../context.js";
import { type Figure, throughputFigure } from "../figures.js";
import { median } from "../harness.js";
import { storedRecord } from "../payload.js";

const CONCURRENCY = 50;

export async function jobSuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const n = sizes.expiredJobs;
  // Every expired read's job, however many: the cap keeps a queue bounded without a worker, and here none runs yet.
  const store = ctx.store({ maxPendingDeletionJobs: 10_000_000 });
  const ours: number[] = [];
  const bare: number[] = [];
  const reads: number[] = [];
  const silent = pino({ level: "silent" });

  for (let round = 0; round < sizes.rounds; round++) {
    for (const contender of round % 2 ? ["bare", "ours"] : ["ours", "bare"]) {
      await ctx.flush();
      const jobs = expiredSessions(round, n);
      if (contender === "ours") {
        await seedExpired(ctx, jobs);
        const readStart = performance.now();
        await seed(n, (i) => store.get(jobs[i]?.userId as string, jobs[i]?.secret as string).catch(() => {}));
        reads.push(n / ((performance.now() - readStart) / 1000));
        const connection = new Redis(ctx.url, { maxRetriesPerRequest: null });
        const worker = createCleanupWorker({
          connection,
          queuePrefix: "bull",
          store,
          concurrency: CONCURRENCY,
          logger: silent,
          metrics: createMetrics(ctx.queue),
        });
        const started = performance.now();
        worker.start();
        await drained(ctx);
        ours.push(n / ((performance.now() - started) / 1000));
        await worker.close(5_000);
        connection.disconnect();
      } else {
        for (let start = 0; start < n; start += 1_000) {
          await ctx.queue.addBulk(
            jobs.slice(start, start + 1_000).map((job) => ({
              name: DELETE_EXPIRED_SESSION_JOB,
              data: { userId: job.userId, sessionKey: job.sessionKey, expiresAt: 0 },
              opts: { ...DELETE_EXPIRED_SESSION_JOB_OPTIONS, deduplication: { id: deduplicationIdOf(job.sessionKey) } },
            })),
          );
        }
        const connection = new Redis(ctx.url, { maxRetriesPerRequest: null });
        const worker = new Worker(CLEANUP_QUEUE_NAME, async () => {}, { connection, concurrency: CONCURRENCY });
        const started = performance.now();
        await drained(ctx);
        bare.push(n / ((performance.now() - started) / 1000));
        await worker.close();
        connection.disconnect();
      }
      progress.step(`jobs round ${round + 1}/${sizes.rounds}: ${contender} drained ${n.toLocaleString("en")} jobs`);
    }
  }
  const figure = throughputFigure(
    `expired-read jobs drained (${n.toLocaleString("en")})`,
    { median: median(ours), samples: ours },
    "bare BullMQ worker, no-op processor",
    { median: median(bare), samples: bare },
    0.7,
  );
  figure.unit = "jobs/s";
  figure.note = `expired reads enqueued at ${Math.round(median(reads)).toLocaleString("en")} reads/s`;
  return [figure];
}

interface ExpiredSession {
  userId: string;
  secret: string;
  sessionKey: string;
}

function expiredSessions(round: number, n: number): ExpiredSession[] {
  return Array.from({ length: n }, (_, i) => {
    const secret = `${round}x${i}`.padEnd(43, "S");
    return { userId: `exp-${round}-${i}`, secret, sessionKey: sessionKeyOf(secret) };
  });
}

/** Writes expired records directly (their expiry is in the past), with a live user info so hashes stay. */
async function seedExpired(ctx: BenchContext, sessions: ExpiredSession[]): Promise<void> {
  const now = Date.now();
  const record = storedRecord(now, -1_000);
  for (let start = 0; start < sessions.length; start += 1_000) {
    const pipeline = ctx.redis.pipeline();
    for (const session of sessions.slice(start, start + 1_000)) {
      const key = userKey("", session.userId);
      pipeline.hset(key, session.sessionKey, record);
      pipeline.pexpire(key, 3_600_000);
      pipeline.zadd(activityShardKey("", slotOf(session.userId)), now - 1_000, session.userId);
    }
    await pipeline.exec();
  }
}

/** Resolves once no job is left to run; fails if none has finished for STALL_MS (a stuck worker, not a slow one). */
async function drained(ctx: BenchContext): Promise<void> {
  let left = Number.POSITIVE_INFINITY;
  let movedAt = performance.now();
  for (;;) {
    const counts = await ctx.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    const now = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (now === 0) return;
    if (now < left) {
      left = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt > STALL_MS) {
      throw new Error(`the queue stopped draining: ${JSON.stringify(counts)} for ${STALL_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const STALL_MS = 30_000;
