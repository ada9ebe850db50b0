#!/usr/bin/env node
/**
 * Builds the web app into a folder the Firebase Hosting emulator serves (firebase.json `hosting.public`):
 *   node web/build.mjs [--out web/dist] [--config '{"gatewayUrl":"http://127.0.0.1:8081", ...}']
 * It bundles src/main.ts (the Firebase JS SDK and @talowa/client from client/src) with esbuild, copies
 * public/, and writes config.json: where the app finds the Auth emulator and the gateway (the local
 * stack rewrites it with the ports it chose).
 */
import { build } from "esbuild";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const webDir = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { out: { type: "string" }, config: { type: "string" } } });
const out = resolve(values.out ?? join(webDir, "dist"));

export const defaultConfig = {
  projectId: "demo-talowa",
  apiKey: "demo-api-key",
  authEmulatorUrl: "http://127.0.0.1:9099",
  gatewayUrl: "http://127.0.0.1:8081",
};

mkdirSync(out, { recursive: true });
cpSync(join(webDir, "public"), out, { recursive: true });
writeFileSync(join(out, "config.json"), JSON.stringify({ ...defaultConfig, ...JSON.parse(values.config ?? "{}") }, null, 2));
const result = await build({
  entryPoints: [join(webDir, "src", "main.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outfile: join(out, "app.js"),
  logLevel: "warning",
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`web app built into ${out} (${Math.round(bytes / 1024)} KiB)\n`);
