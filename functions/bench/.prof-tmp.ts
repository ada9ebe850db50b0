import { summarizeProfile } from "./lib/cpu-profile";
for (const f of process.argv.slice(2)) { const s = summarizeProfile(f, 30); console.log("==", f.split("/").pop(), s.totalMs, "ms");
 console.log(" cause:", s.byCause.slice(0,14).map(o=>`${o.origin} ${o.share}%`).join(", "));
 console.log(" top:", s.topFunctions.slice(0,30).map(f=>`${f.fn} (${f.where}) ${f.share}%`).join("\n   "));}
