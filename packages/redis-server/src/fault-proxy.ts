/**
 * A TCP proxy in front of a Redis that can lose one reply on purpose, for
 * tests of what a client does when Redis ran a command but the answer never
 * came back (a crash after fsync, a dropped connection).
 *
 * It forwards bytes both ways unchanged and only reads along: the client's
 * commands (RESP arrays of bulk strings, as every client sends them) and
 * Redis's replies (RESP2 or RESP3), pairing them in order on each
 * connection. Once armed with `swallowNextReply(match)`, the reply to the
 * next command that matches is dropped after Redis has run it, and that
 * client's connection is cut, so the client sees exactly a lost reply.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface RedisFaultProxy {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /**
   * Drops the reply to the next command for which `match(args)` is true
   * (`args[0]` is the command name, upper-cased) and cuts that client's
   * connection. Resolves with the command's arguments once it has happened.
   */
  swallowNextReply(match: (args: string[]) => boolean): Promise<string[]>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

interface ArmedFault {
  match: (args: string[]) => boolean;
  resolve: (args: string[]) => void;
}

const CRLF = 0x0d;

/** Where the line starting at `at` ends (the index of its \r), or -1 while incomplete. */
function lineEnd(buffer: Buffer, at: number): number {
  const end = buffer.indexOf(CRLF, at);
  return end === -1 || end + 1 >= buffer.length ? -1 : end;
}

/**
 * Parses one RESP value starting at `at`. Returns the index just past it and
 * whether it is a reply (a RESP3 push is not), or null while incomplete.
 */
function skipValue(buffer: Buffer, at: number): { next: number; reply: boolean } | null {
  if (at >= buffer.length) return null;
  const type = String.fromCharCode(buffer[at] as number);
  const end = lineEnd(buffer, at + 1);
  if (end === -1) return null;
  const header = buffer.toString("latin1", at + 1, end);
  const afterLine = end + 2;
  switch (type) {
    case "+":
    case "-":
    case ":":
    case "_":
    case "#":
    case ",":
    case "(":
      return { next: afterLine, reply: true };
    case "$":
    case "!":
    case "=": {
      const length = Number(header);
      if (length < 0) return { next: afterLine, reply: true };
      const next = afterLine + length + 2;
      return next <= buffer.length ? { next, reply: true } : null;
    }
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      const count = Number(header);
      const elements = count < 0 ? 0 : type === "%" || type === "|" ? count * 2 : count;
      let next = afterLine;
      for (let i = 0; i < elements; i++) {
        const element = skipValue(buffer, next);
        if (!element) return null;
        next = element.next;
      }
      // An attribute annotates the value that follows it: the two are one reply.
      if (type === "|") {
        const annotated = skipValue(buffer, next);
        return annotated ? { next: annotated.next, reply: annotated.reply } : null;
      }
      return { next, reply: type !== ">" };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Parses one command (an array of bulk strings) starting at `at`, or null while incomplete. */
function readCommand(buffer: Buffer, at: number): { next: number; args: string[] } | null {
  const end = lineEnd(buffer, at);
  if (end === -1) return null;
  if (buffer[at] !== 0x2a /* "*" */) {
    // An inline command: one line of words.
    return { next: end + 2, args: buffer.toString("utf8", at, end).split(/\s+/).filter(Boolean) };
  }
  const count = Number(buffer.toString("latin1", at + 1, end));
  const args: string[] = [];
  let next = end + 2;
  for (let i = 0; i < count; i++) {
    const headerEnd = lineEnd(buffer, next);
    if (headerEnd === -1) return null;
    const length = Number(buffer.toString("latin1", next + 1, headerEnd));
    const start = headerEnd + 2;
    if (start + length + 2 > buffer.length) return null;
    args.push(buffer.toString("utf8", start, start + length));
    next = start + length + 2;
  }
  if (args.length > 0) args[0] = (args[0] as string).toUpperCase();
  return { next, args };
}

export async function startRedisFaultProxy(target: { host: string; port: number }): Promise<RedisFaultProxy> {
  const sockets = new Set<Socket>();
  let armed: ArmedFault | null = null;

  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const pending: string[][] = [];
    let requests: Buffer = Buffer.alloc(0);
    let replies: Buffer = Buffer.alloc(0);
    let cut = false;

    const cutBoth = () => {
      cut = true;
      client.destroy();
      upstream.destroy();
    };
    client.on("close", () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());

    client.on("data", (chunk: Buffer) => {
      if (cut) return;
      requests = requests.length === 0 ? chunk : Buffer.concat([requests, chunk]);
      let at = 0;
      for (let command = readCommand(requests, at); command; command = readCommand(requests, at)) {
        pending.push(command.args);
        at = command.next;
      }
      requests = requests.subarray(at);
      upstream.write(chunk);
    });

    upstream.on("data", (chunk: Buffer) => {
      if (cut) return;
      replies = replies.length === 0 ? chunk : Buffer.concat([replies, chunk]);
      let at = 0;
      for (let value = skipValue(replies, at); value; value = skipValue(replies, at)) {
        if (value.reply) {
          const args = pending.shift() ?? [];
          const fault = armed;
          if (fault?.match(args)) {
            armed = null;
            // Forward what came before this reply, then lose it and cut the connection.
            if (at > 0) client.write(replies.subarray(0, at));
            cutBoth();
            fault.resolve(args);
            return;
          }
        }
        at = value.next;
      }
      if (at > 0) client.write(replies.subarray(0, at));
      replies = replies.subarray(at);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    host: "127.0.0.1",
    port,
    url: `redis://127.0.0.1:${port}`,
    swallowNextReply(match) {
      if (armed) return Promise.reject(new Error("a fault is already armed"));
      return new Promise((resolve) => {
        armed = { match, resolve };
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
