/**
 * Cloud Functions of TALOWA messaging: thin hosts around the gateway core (src/gateway, src/control).
 */
import { logger } from "firebase-functions";
import { onRequest } from "firebase-functions/v2/https";
import { createControlHandler } from "./control/control-handler";
import { SingleHostGateway } from "./control/single-host";
import { firebaseAuth } from "./firebase";
import { FirebaseTokenVerifier } from "./ports/token-verifier/firebase-token-verifier";
import type { Logger } from "./ports/logger";

const functionsLogger: Logger = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

let handler: ReturnType<typeof createControlHandler> | undefined;
let host: SingleHostGateway | undefined;

function singleHost(): SingleHostGateway {
  host ??= SingleHostGateway.fromEnv(process.env, functionsLogger);
  return host;
}

function controlHandler() {
  handler ??= createControlHandler({
    host: singleHost(),
    verifier: new FirebaseTokenVerifier(firebaseAuth(), true),
    logger: functionsLogger,
  });
  return handler;
}

/** Control plane of the gateway: POST /start, POST /stop, GET /status. */
export const websocketServer = onRequest({ cors: true, timeoutSeconds: 60 }, async (req, res) => {
  const answer = await controlHandler()({ method: req.method, path: req.path, headers: req.headers, body: req.body });
  res.status(answer.status).json(answer.body);
});

/** Public: what a client needs to connect. */
export const getWebSocketInfo = onRequest({ cors: true }, (_req, res) => {
  res.json({ ok: true, ...singleHost().connectionInfo(process.env.GATEWAY_PUBLIC_URL) });
});
