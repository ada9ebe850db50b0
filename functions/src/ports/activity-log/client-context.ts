import type { IncomingHttpHeaders } from "node:http";
import { ClientContext, DEVICE_TYPES, DeviceType } from "./activity-log";

export interface ClientContextHeaders {
  /** Checked in order; the first that holds a two-letter code wins (`ZZ`, "unknown", is skipped). */
  countryHeaders: string[];
  regionHeaders: string[];
}

/**
 * Device type and country/region of a request or a Socket.IO handshake, from its headers, for the
 * activity log only (never for access decisions: clients can send any header an edge does not strip).
 * Device type: an explicit `X-Client-Platform: ios | android | web` (Flutter's dart:io client names no
 * platform in its User-Agent), else the User-Agent: Android, iPhone/iPad/iOS, then any browser.
 */
export function clientContextOf(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, names: ClientContextHeaders): ClientContext {
  const context: ClientContext = { deviceType: deviceTypeOf(header(headers, "x-client-platform"), header(headers, "user-agent")) };
  const country = names.countryHeaders.map((name) => header(headers, name)?.trim()).find((v) => v && /^[A-Za-z]{2}$/.test(v) && v.toUpperCase() !== "ZZ");
  if (country) context.countryCode = country.toUpperCase();
  const region = names.regionHeaders.map((name) => clean(header(headers, name))).find((v) => v);
  if (region) context.region = region;
  return context;
}

export function deviceTypeOf(platform: string | undefined, userAgent: string | undefined): DeviceType {
  const declared = platform?.trim().toLowerCase();
  if (declared && (DEVICE_TYPES as readonly string[]).includes(declared)) return declared as DeviceType;
  const ua = userAgent ?? "";
  if (/android/i.test(ua)) return "android";
  if (/iphone|ipad|ipod|\bios\b/i.test(ua)) return "ios";
  if (/mozilla\/|chrome\/|safari\/|firefox\/|edg\//i.test(ua)) return "web";
  return "unknown";
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Printable, at most 100 characters; empty when nothing is left. */
function clean(value: string | undefined): string | undefined {
  const text = value?.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 100);
  return text || undefined;
}
