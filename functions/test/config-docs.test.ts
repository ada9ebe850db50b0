import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { envNames, settings } from "../src/config";
import { readmeWithTable } from "../tools/config-table";

describe("configuration, declared once", () => {
  it("the README's table is the one generated from config.ts (run tools/config-table.ts --write after adding a setting)", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    expect(readmeWithTable(readme)).to.equal(readme);
  });

  it("gives every setting its own environment variable and a meaning", () => {
    const names = Object.values(envNames);
    expect(new Set(names).size).to.equal(names.length);
    for (const [name, s] of Object.entries(settings)) expect(s.doc.length, name).to.be.above(10);
  });
});
