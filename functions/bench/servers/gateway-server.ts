/**
 * The TALOWA gateway as a server under test: built with createGateway (real firebase-admin token
 * verification against the Auth emulator, the configured message store), in its own process.
 *   env BENCH_GATEWAY_CONFIG  JSON overrides of GatewayConfig (port is always 0 here)
 *       FIREBASE_AUTH_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST, GCLOUD_PROJECT as usual
 *
 * Limits meant for abuse (per-user rate limits, group size caps, devices per user) would measure the
 * limiter, not the gateway: every setting whose name says it is such a limit is lifted, and the report
 * lists exactly which settings were changed.
 */
import { ConfigError, defaultConfig, GatewayConfig, resolveConfig } from "../../src/config";
import { createGateway } from "../../src/gateway/create-gateway";
import { createJsonLogger } from "../../src/ports/logger";
import { announceReady, serveControl } from "./control";

const LIFTED = 1_000_000_000;

/** Settings to lift, found by name in the gateway's own defaults (so it follows the code as it grows). */
export function liftLimits(defaults: Record<string, unknown>): { overrides: Record<string, unknown>; lifted: string[] } {
  const overrides: Record<string, unknown> = {};
  const lifted: string[] = [];
  const isRateKey = (key: string) => /rate.?limit|ratelimit|throttle|flood/i.test(key);
  const isCapKey = (key: string) => /max.*(members|group|devices|connections|sockets|per.?user)|(members|devices|connections).*max/i.test(key);

  const liftDeep = (value: unknown, path: string): unknown => {
    if (typeof value === "boolean") {
      const last = path.split(".").pop() ?? "";
      if (/disable/i.test(last)) return record(path, true);
      if (/enable|^on$|active/i.test(last) || isRateKey(last)) return record(path, false);
      return value;
    }
    if (typeof value === "number") {
      const last = path.split(".").pop() ?? "";
      if (/window|interval|ms$|seconds|duration|ttl|retry|block/i.test(last)) return value;
      return record(path, Math.max(value, LIFTED));
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = liftDeep(v, `${path}.${k}`);
      return out;
    }
    return value;
  };
  function record<T>(path: string, value: T): T {
    lifted.push(`${path}=${value}`);
    return value;
  }

  for (const [key, value] of Object.entries(defaults)) {
    if (isRateKey(key)) overrides[key] = liftDeep(value, key);
    else if (isCapKey(key) && typeof value === "number") overrides[key] = record(key, Math.max(value, 100_000));
  }
  return { overrides, lifted };
}

async function main(): Promise<void> {
  const requested = JSON.parse(process.env.BENCH_GATEWAY_CONFIG || "{}") as Record<string, unknown>;
  const notes: string[] = [];
  const known = new Set(Object.keys(defaultConfig));
  const base: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(requested)) {
    if (known.has(key)) base[key] = value;
    else notes.push(`setting ${key} does not exist in this gateway (ignored)`);
  }
  const { overrides: liftedOverrides, lifted } = liftLimits(defaultConfig as unknown as Record<string, unknown>);

  let config: GatewayConfig;
  // The load generator builds groups of users who never talked: with the default consent policy they would be invitations.
  const consent = { consentGroupAdds: "anyone" };
  notes.push("consentGroupAdds=anyone (the load generator's groups join strangers)");
  const candidate = { ...base, ...liftedOverrides, ...consent, port: 0, host: "127.0.0.1" } as Partial<GatewayConfig>;
  try {
    config = resolveConfig(candidate);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A lifted value the schema refuses: keep the defaults for those, say so.
    notes.push(`could not lift every limit: ${error.problems.join("; ")}`);
    config = resolveConfig({ ...base, ...consent, port: 0, host: "127.0.0.1" } as Partial<GatewayConfig>);
    lifted.length = 0;
  }
  if (lifted.length) notes.push(`limits lifted for the benchmark: ${lifted.join(", ")}`);
  else notes.push("no rate-limit or size-cap settings found in this gateway's config (nothing lifted)");

  const logger = createJsonLogger("warn", { instance: "bench" });
  const gateway = createGateway(config, { logger });
  const port = await gateway.start();
  serveControl({
    connections: () => gateway.io.engine.clientsCount,
    stop: () => gateway.stop("shutdown"),
  });
  const settings: Record<string, unknown> = { ...config };
  if (settings.redisUrl) settings.redisUrl = "(local redis-server)";
  announceReady({ port, kind: "gateway", settings, notes });
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`bench gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
