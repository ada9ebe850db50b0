/**
 * The servers under test and the load generator run as plain JavaScript, as in production: ts-node
 * would install source-map-support in them, which makes every captured stack trace expensive (the
 * Firestore client captures one per request) and keeps the TypeScript compiler in the heap the GC walks.
 * This transpiles src/, bench/ and tools/ file by file (no type check: `npm test` does that) into
 * functions/.bench-build/, once per run, in a second or two.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import * as ts from "typescript";

const SOURCES = ["src", "bench", "tools"];

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "results" && name !== "node_modules") yield* tsFiles(path);
    } else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) yield path;
  }
}

export function buildForBench(functionsDir: string): { outDir: string; files: number; ms: number } {
  const started = performance.now();
  const outDir = join(functionsDir, ".bench-build");
  rmSync(outDir, { recursive: true, force: true });
  const compilerOptions: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    esModuleInterop: true,
    sourceMap: false,
  };
  let files = 0;
  for (const source of SOURCES) {
    for (const file of tsFiles(join(functionsDir, source))) {
      const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions, fileName: file });
      const target = join(outDir, relative(functionsDir, file)).replace(/\.ts$/, ".js");
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
      files += 1;
    }
  }
  return { outDir, files, ms: Math.round(performance.now() - started) };
}
