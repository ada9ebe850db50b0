/**
 * The gateway as a plain Node process (Cloud Run, a VM, Kubernetes, the local stack).
 * Configured from environment variables (see config.ts `envNames`), validated at start.
 *   node lib/hosts/standalone.js
 */
import { ConfigError, configFromEnv } from "../config";
import { createGateway } from "../gateway/create-gateway";
import { createJsonLogger } from "../ports/logger";

async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createJsonLogger(config.logLevel);
  const gateway = createGateway(config, { logger });
  const port = await gateway.start();
  process.stdout.write(`TALOWA gateway listening on http://${config.host}:${port}${config.path} (instance ${gateway.instanceId})\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("signal received, draining", { signal });
    const hardStop = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5_000);
    hardStop.unref();
    gateway.stop("shutdown").then(
      () => process.exit(0),
      (error) => {
        logger.error("shutdown failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
