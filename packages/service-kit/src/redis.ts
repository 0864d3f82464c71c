/**
 * A service's two Redis connections, to one server or to a Redis Cluster
 * (RedisTarget): one for session data, with session-core's
 * SESSION_CONNECTION_OPTIONS (reads auto-pipelined, scripts sent as they
 * come, every command bounded by `commandTimeoutMs`, no resend of a command
 * whose reply was lost), and one for BullMQ, which needs
 * `maxRetriesPerRequest: null` and no auto-pipelining. Both reconnect by
 * themselves after an outage, at most half a second after Redis answers
 * again; errors are logged at most every few seconds per connection.
 *
 * On a cluster each connection is an ioredis `Cluster`: it routes every
 * command to the master holding its keys' slot and follows MOVED and ASK,
 * which a plain client pointed at one node cannot (every multi-node write
 * fails CROSSSLOT or MOVED). The session connection keeps its bounds there:
 * the per-command options go to each node's connection (`redisOptions`),
 * and with no offline queue a call made while the cluster is unreachable
 * fails at once instead of waiting for it to come back.
 */
import { reconnectDelayMs, SESSION_CONNECTION_OPTIONS } from "@multisession/session-core";
import { Cluster, type ClusterOptions, Redis } from "ioredis";
import type { Logger } from "pino";
import { settlesWithin } from "./close.js";
import type { ClusterNode, RedisTarget } from "./env.js";

const ERROR_LOG_INTERVAL_MS = 5_000;

/** A connection to one Redis server or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface ConnectRedisOptions {
  /** The session connection's command timeout (REDIS_COMMAND_TIMEOUT_MS); session-core's 1 s when unset. */
  commandTimeoutMs?: number;
  /**
   * On one server: exit the process (78) when the URL names a node of a Redis Cluster. A process's own
   * wiring wants this; a library running inside someone else's process checks for itself instead.
   * @default true
   */
  exitOnClusterNode?: boolean;
}

export interface RedisConnections {
  /** Session data (SessionStore), the sweep lease and the throttle's counters. */
  sessions: RedisClient;
  /** BullMQ's queue and worker; BullMQ duplicates it for its blocking reads. */
  queue: RedisClient;
  /**
   * Settles once the session connection is first ready and, on a single Redis, the check that
   * REDIS_URL is not a cluster node has run; or after FIRST_CHECK_WAIT_MS if Redis is not there
   * yet (the check then runs when it comes). Await it before starting BullMQ and the sweeper, so
   * a misdirected process exits before its first command fails, and a cluster client (which has
   * no offline queue) is not asked anything before it knows its slots.
   */
  checked: Promise<void>;
}

/** How long start-up waits for the first cluster-node check before going on without Redis. */
const FIRST_CHECK_WAIT_MS = 2_000;

export function connectRedis(
  target: RedisTarget,
  logger: Logger,
  service: string,
  options: ConnectRedisOptions = {},
): RedisConnections {
  const commandTimeout = options.commandTimeoutMs ?? SESSION_CONNECTION_OPTIONS.commandTimeout;
  const connections = target.cluster
    ? connectCluster(target.nodes, service, commandTimeout)
    : {
        sessions: new Redis(target.url, {
          ...SESSION_CONNECTION_OPTIONS,
          commandTimeout,
          connectionName: `${service}:sessions`,
        }),
        queue: new Redis(target.url, {
          maxRetriesPerRequest: null,
          retryStrategy: reconnectDelayMs,
          maxLoadingRetryTime: SESSION_CONNECTION_OPTIONS.maxLoadingRetryTime,
          connectionName: `${service}:queue`,
        }),
      };
  for (const [name, client] of Object.entries(connections)) {
    let lastLogged = 0;
    const onError = (error: Error, node?: string) => {
      if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
      lastLogged = Date.now();
      logger.warn({ connection: name, node, err: { message: error.message } }, "redis connection error; reconnecting");
    };
    client.on("error", (error: Error) => onError(error));
    // A cluster reports a node's trouble apart from its own.
    if (client instanceof Cluster) client.on("node error", (error: Error, node: string) => onError(error, node));
    client.on("ready", () => {
      if (lastLogged > 0) logger.info({ connection: name }, "redis connection restored");
      lastLogged = 0;
    });
  }
  const checked = target.cluster
    ? firstReady(connections.sessions)
    : options.exitOnClusterNode === false
      ? firstReady(connections.sessions)
      : refuseClusterNode(connections.sessions as Redis, service);
  return { ...connections, checked };
}

/**
 * REDIS_URL pointed at a node of a Redis Cluster: a plain client there gets MOVED for other nodes' keys and
 * CROSSSLOT for BullMQ's scripts, so logins fail and the queue's errors never stop. Checked each time the
 * session connection is ready; the process then stops as for any configuration error (exit 78).
 */
function firstReady(client: RedisClient): Promise<void> {
  return new Promise((resolve) => {
    const waited = setTimeout(resolve, FIRST_CHECK_WAIT_MS);
    waited.unref();
    client.once("ready", () => {
      clearTimeout(waited);
      resolve();
    });
  });
}

function refuseClusterNode(client: Redis, service: string): Promise<void> {
  return new Promise((resolve) => {
    const waited = setTimeout(resolve, FIRST_CHECK_WAIT_MS);
    waited.unref();
    client.on("ready", () => {
      client
        .info("cluster")
        .then(
          (info) => {
            if (!/^cluster_enabled:1\r?$/m.test(info)) return;
            console.error(
              `${service}: invalid configuration: REDIS_URL points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES instead`,
            );
            process.exit(78);
          },
          // Not answered now: the next ready checks again.
          () => {},
        )
        .finally(() => {
          clearTimeout(waited);
          resolve();
        });
    });
  });
}

/**
 * The session connection's options on a cluster: SESSION_CONNECTION_OPTIONS on every node, and the
 * cluster-level bounds. Exported so that the bench measures exactly what the services run.
 */
export function sessionClusterOptions(commandTimeout: number, connectionName?: string): ClusterOptions {
  // The cluster reconnects as a whole (clusterRetryStrategy); its nodes' connections never retry on their own.
  const {
    retryStrategy: _,
    enableAutoPipelining,
    autoPipeliningIgnoredCommands,
    ...perNode
  } = SESSION_CONNECTION_OPTIONS;
  return {
    redisOptions: { ...perNode, commandTimeout, connectionName },
    enableAutoPipelining,
    autoPipeliningIgnoredCommands: [...autoPipeliningIgnoredCommands],
    clusterRetryStrategy: reconnectDelayMs,
    // Fail a call made while the cluster is unreachable, as maxRetriesPerRequest does on one server.
    enableOfflineQueue: false,
    // A replica lags its master: a session read there could miss a login or see a revoked session.
    scaleReads: "master",
    slotsRefreshTimeout: Math.max(1_000, commandTimeout),
  };
}

/** BullMQ's connection options on a cluster (its commands wait: maxRetriesPerRequest null). */
export function queueClusterOptions(connectionName?: string): ClusterOptions {
  return {
    redisOptions: {
      maxRetriesPerRequest: null,
      maxLoadingRetryTime: SESSION_CONNECTION_OPTIONS.maxLoadingRetryTime,
      connectionName,
    },
    clusterRetryStrategy: reconnectDelayMs,
    scaleReads: "master",
  };
}

function connectCluster(nodes: readonly ClusterNode[], service: string, commandTimeout: number) {
  const sessions = new Cluster([...nodes], sessionClusterOptions(commandTimeout, `${service}:sessions`));
  const queue = new Cluster([...nodes], queueClusterOptions(`${service}:queue`));
  return { sessions, queue };
}

/** True when Redis answers PING within `timeoutMs`. */
export async function redisAnswers(client: RedisClient, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== "ready") return false;
  return answersWithin(
    client.ping().then((reply) => reply === "PONG"),
    timeoutMs,
  );
}

/**
 * True when every master the client knows answers `CLUSTER INFO` with `cluster_state:ok` within
 * `timeoutMs`: a node that lost a slot's owner (and every node, while the cluster cannot serve all
 * slots) says `fail`, and answers CLUSTERDOWN to commands.
 */
export async function clusterStateOk(client: Cluster, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== "ready") return false;
  const masters = client.nodes("master");
  if (masters.length === 0) return false;
  return answersWithin(
    Promise.all(masters.map((node) => node.cluster("INFO"))).then((infos) =>
      infos.every((info) => /^cluster_state:ok\r?$/m.test(info)),
    ),
    timeoutMs,
  );
}

async function answersWithin(check: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let answer = false;
  const settled = check.then(
    (value) => {
      answer = value;
    },
    () => {},
  );
  return (await settlesWithin(settled, timeoutMs)) && answer;
}
