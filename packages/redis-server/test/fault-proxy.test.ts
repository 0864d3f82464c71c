import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisFaultProxy, type RedisServer, startRedisFaultProxy, startRedisServer } from "../src/index.js";

let server: RedisServer;
let proxy: RedisFaultProxy;
let direct: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startRedisFaultProxy({ host: server.host, port: server.port });
  direct = new Redis(server.url);
});
afterAll(async () => {
  direct.disconnect();
  await proxy.close();
  await server.stop();
});

describe("startRedisFaultProxy", () => {
  it("forwards commands and replies of every RESP type unchanged", async () => {
    for (const protocol of [2, 3] as const) {
      const client = new Redis(proxy.url, { protocol });
      try {
        await client.set("fp:string", "x".repeat(100_000));
        expect((await client.get("fp:string"))?.length).toBe(100_000);
        await client.hset("fp:hash", "a", "1", "b", "2");
        expect(await client.hgetall("fp:hash")).toEqual({ a: "1", b: "2" });
        const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => client.echo(`m${i}`)));
        expect(replies.at(-1)).toBe("m499");
        expect(await client.get("fp:missing")).toBeNull();
        await expect(client.call("NOSUCHCOMMAND")).rejects.toThrow(/unknown command/);
      } finally {
        client.disconnect();
      }
    }
  });

  it("a swallowed reply: Redis ran the command once, the client never saw the answer", async () => {
    await direct.del("fp:counter");
    const client = new Redis(proxy.url, { autoResendUnfulfilledCommands: false, commandTimeout: 1_000 });
    try {
      await client.ping();
      const swallowed = proxy.swallowNextReply((args) => args[0] === "INCR");
      await expect(client.incr("fp:counter")).rejects.toThrow(/timed out/);
      expect(await swallowed).toEqual(["INCR", "fp:counter"]);
      expect(await direct.get("fp:counter")).toBe("1");
      // The client reconnects through the proxy and goes on.
      expect(await client.incr("fp:counter")).toBe(2);
    } finally {
      client.disconnect();
    }
  });

  it("with ioredis's automatic resend, the lost reply's command runs twice", async () => {
    await direct.del("fp:resent");
    const client = new Redis(proxy.url);
    try {
      await client.ping();
      const swallowed = proxy.swallowNextReply((args) => args[0] === "INCR");
      expect(await client.incr("fp:resent")).toBe(2); // the answer of the second run
      await swallowed;
      expect(await direct.get("fp:resent")).toBe("2");
    } finally {
      client.disconnect();
    }
  });
});
