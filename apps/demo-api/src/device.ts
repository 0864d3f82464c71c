/** What the demo knows of a device: the name the user typed (else one read from the user agent), and what the request says. */
import { type Device, INPUT_LIMITS } from "@multisession/session-core";
import type { FastifyRequest } from "fastify";
import { friendlyDeviceName } from "./user-agent.js";

export function platformOf(userAgent: string): string {
  if (/android/i.test(userAgent)) return "android";
  if (/iphone|ipad|ipod|ios|cfnetwork/i.test(userAgent)) return "ios";
  return "web";
}

export function deviceOf(request: FastifyRequest, name: string | undefined): Device {
  const userAgent = (request.headers["user-agent"] ?? "").slice(0, INPUT_LIMITS.device.userAgent);
  const platform = platformOf(userAgent);
  return {
    name: (name?.trim() || friendlyDeviceName(userAgent) || `${platform} device`).slice(0, INPUT_LIMITS.device.name),
    platform,
    userAgent,
    ip: request.ip.slice(0, INPUT_LIMITS.device.ip),
  };
}
