/**
 * The README's configuration table, generated from config.ts (the one declaration of every setting):
 *   npx ts-node --transpile-only tools/config-table.ts --write   rewrites README.md between the markers
 * A test checks that the README matches, so the table cannot drift from the code.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { settings } from "../src/config";

const README = join(__dirname, "..", "..", "README.md");
const BEGIN = "<!-- config:begin (generated from functions/src/config.ts by functions/tools/config-table.ts) -->";
const END = "<!-- config:end -->";

export function configTable(): string {
  const rows = Object.entries(settings).map(([name, s]) => {
    const shown = Array.isArray(s.default) ? s.default.join(",") : typeof s.default === "object" ? "see `RATE_LIMITS`" : String(s.default);
    const doc = s.doc.replace(/\|/g, "\\|") + ("param" in s && s.param ? " *(a Cloud Functions param)*" : "");
    return `| \`${s.env}\` | \`${name}\` | ${shown === "" ? "(empty)" : `\`${shown}\``} | ${doc} |`;
  });
  return ["| variable | setting | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

export function readmeWithTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error("README.md has no config table markers");
  return `${readme.slice(0, start)}${BEGIN}\n${configTable()}\n${readme.slice(end)}`;
}

if (require.main === module && process.argv.includes("--write")) {
  writeFileSync(README, readmeWithTable(readFileSync(README, "utf8")));
  process.stdout.write("README.md configuration table rewritten\n");
}
