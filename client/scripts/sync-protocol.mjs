#!/usr/bin/env node
/**
 * The wire protocol has one source: functions/src/protocol.ts and the error table it uses
 * (functions/src/errors.ts). This copies both into client/src/generated/ (relative imports get the
 * `.js` extension ES modules need) so the published client carries the very same types.
 *   node client/scripts/sync-protocol.mjs           write the copies
 *   node client/scripts/sync-protocol.mjs --check   exit 1 if a copy differs from its source
 * The client's build runs it first; functions/test/client-protocol.test.ts runs the check.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const clientDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDir = join(clientDir, "..", "functions", "src");
const targetDir = join(clientDir, "src", "generated");
const files = ["protocol.ts", "errors.ts"];
const local = new Set(files.map((f) => `./${f.replace(/\.ts$/, "")}`));

export function generated(file) {
  const source = readFileSync(join(sourceDir, file), "utf8");
  const body = source.replace(/^((?:import|export)\b[^;]*?\bfrom\s+)"([^"]+)"/gm, (match, from, specifier) => {
    if (!local.has(specifier)) throw new Error(`${file} imports "${specifier}": the protocol files may import only each other`);
    return `${from}"${specifier}.js"`;
  });
  return `// Generated from functions/src/${file} by client/scripts/sync-protocol.mjs; do not edit (edit the source, then npm run sync-protocol).\n${body}`;
}

const check = process.argv.includes("--check");
let stale = [];
if (!check) mkdirSync(targetDir, { recursive: true });
for (const file of files) {
  const target = join(targetDir, file);
  const wanted = generated(file);
  const current = existsSync(target) ? readFileSync(target, "utf8") : undefined;
  if (current === wanted) continue;
  if (check) stale.push(`client/src/generated/${file}`);
  else writeFileSync(target, wanted);
}
if (stale.length > 0) {
  process.stderr.write(`${stale.join(", ")} differ from functions/src: run \`npm --prefix client run sync-protocol\` and commit the result.\n`);
  process.exit(1);
}
