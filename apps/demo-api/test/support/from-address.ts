/**
 * A JSON request sent from a chosen loopback address (127.0.0.2, 127.0.0.3,
 * ...), so tests of per-address limits can play several clients against
 * one API without sharing a counter.
 */
import { request } from "node:http";

export interface AddressedAnswer {
  status: number;
  body: { error?: { code: string; message: string }; token?: string } & Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export function callFrom(
  localAddress: string,
  url: string,
  method: string,
  options: { body?: unknown; token?: string } = {},
): Promise<AddressedAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (payload !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers, localAddress, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : {}, headers: response.headers }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}
