/**
 * Where the memory of idle sockets goes: two V8 heap snapshots of a server (before and after N sockets
 * connected, both after a forced GC) summarised by object kind, and their difference divided by N.
 * The kind is V8's node type and name ("object Socket", "closure onclose", "string", "array (object
 * properties)"), the same grouping as Chrome DevTools' "Summary" view (self sizes, not retained).
 */
import { readFileSync } from "node:fs";

export interface HeapKind {
  kind: string;
  /** Objects of this kind per socket (difference of the two snapshots / sockets). */
  countPerSocket: number;
  /** Self size of this kind per socket, bytes. */
  bytesPerSocket: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per kind in one `.heapsnapshot` file. */
export function summarizeHeap(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const kind = kindOf(type, snap.strings[snap.nodes[i + nameAt]]);
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += snap.nodes[i + sizeAt];
    kinds.set(kind, entry);
  }
  return kinds;
}

/** Strings and code are grouped by type (their names are their contents); objects and closures by name. */
function kindOf(type: string, name: string): string {
  if (type === "string" || type === "concatenated string" || type === "sliced string" || type === "code" || type === "number") return type;
  if (type === "hidden" || type === "object shape") return `${type} ${name.replace(/\s*\/.*$/, "").slice(0, 40)}`;
  return `${type} ${name.slice(0, 60)}`;
}

/** The kinds that grew most per socket between `before` and `after` (largest first). */
export function heapGrowthPerSocket(before: string, after: string, sockets: number, top = 25): { totalBytesPerSocket: number; kinds: HeapKind[] } {
  const a = summarizeHeap(before);
  const b = summarizeHeap(after);
  const kinds: HeapKind[] = [];
  let total = 0;
  for (const [kind, grown] of b) {
    const base = a.get(kind) ?? { count: 0, bytes: 0 };
    const bytes = (grown.bytes - base.bytes) / sockets;
    total += bytes;
    kinds.push({ kind, countPerSocket: round((grown.count - base.count) / sockets), bytesPerSocket: Math.round(bytes) });
  }
  kinds.sort((x, y) => y.bytesPerSocket - x.bytesPerSocket);
  return { totalBytesPerSocket: Math.round(total), kinds: kinds.slice(0, top) };
}

const round = (n: number) => Math.round(n * 100) / 100;
