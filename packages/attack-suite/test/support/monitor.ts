/**
 * Every command Redis receives, from a MONITOR connection on a plain socket.
 * ioredis's monitor mode can fail with "Command queue state error" when a
 * busy server's first MONITOR lines race the OK of the MONITOR command; the
 * protocol is simple enough to read directly: each line after `+OK` is one
 * command, `+<time> [<db> <client>] "<arg>" "<arg>" ...`.
 */
import { createConnection } from "node:net";

export interface CommandMonitor {
  /** The command lines so far, as Redis wrote them (arguments quoted and escaped). */
  readonly commands: string[];
  stop(): void;
}

export function monitorRedis(url: string): Promise<CommandMonitor> {
  const { hostname, port } = new URL(url);
  const commands: string[] = [];
  const socket = createConnection({ host: hostname, port: Number(port) });
  socket.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let pending = "";
    let started = false;
    socket.once("error", reject);
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.on("data", (chunk: string) => {
      pending += chunk;
      let end = pending.indexOf("\r\n");
      while (end >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        end = pending.indexOf("\r\n");
        if (!started) {
          if (line !== "+OK") return reject(new Error(`MONITOR refused: ${line}`));
          started = true;
          resolve({ commands, stop: () => socket.destroy() });
        } else if (line.startsWith("+")) {
          commands.push(line.slice(1));
        }
      }
    });
  });
}
