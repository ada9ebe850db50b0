#!/usr/bin/env node
/**
 * Runs first in `npm test`: stops at once, saying what to install, when the machine lacks a program the
 * suite starts (redis-server for Redis, Chromium for the web app's browser test). Everything else the
 * suite needs comes from npm.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const missing = [];
try {
  execFileSync("redis-server", ["--version"], { stdio: "ignore" });
} catch {
  missing.push([
    "redis-server (the tests start a private Redis 7)",
    "Debian/Ubuntu: sudo apt-get install -y redis-server   macOS: brew install redis   (it must be on PATH)",
  ]);
}
const chromium = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!existsSync(chromium)) {
  missing.push([
    `Chromium at ${chromium} (the web app's browser test drives it with puppeteer-core)`,
    "Debian/Ubuntu: sudo apt-get install -y chromium   elsewhere: set CHROMIUM_PATH to a Chrome or Chromium binary",
  ]);
}
if (missing.length > 0) {
  process.stderr.write("\nnpm test cannot start: this machine lacks\n");
  for (const [what, how] of missing) process.stderr.write(`  - ${what}\n      install: ${how}\n`);
  process.stderr.write("(.ci/run installs both on Debian when they are missing.)\n\n");
  process.exit(1);
}
