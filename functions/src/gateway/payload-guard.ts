import { GatewayError } from "../errors";

/**
 * Structural limits checked on every client payload before its schema runs (issue 12), so nothing a
 * client sends can reach a recursive parser or the store in a shape they would fail on (INTERNAL or
 * UNAVAILABLE, inviting retries). Iterative: a payload nested a million levels deep costs no stack.
 */
export const PAYLOAD_LIMITS = {
  /** Whole payload; metadata has its own, tighter Firestore limit (FIRESTORE_LIMITS.maxDepth). */
  maxDepth: 32,
  /** Objects, arrays and values in one payload. */
  maxNodes: 20_000,
} as const;

/** What Firestore refuses in a document (https://firebase.google.com/docs/firestore/quotas#limits). */
export const FIRESTORE_LIMITS = {
  /** Maximum depth of fields in a map or array. */
  maxDepth: 20,
  /** Maximum size of a field name, in bytes. */
  maxFieldNameBytes: 1_500,
  /** Maximum document size (1 MiB), in bytes. */
  maxDocumentBytes: 1_048_576,
  /** Field names Firestore reserves: `__.*__`. */
  reserved: /^__.*__$/,
} as const;

/** Throws INVALID_ARGUMENT naming the first field past the payload limits or with a name Firestore refuses. */
export function guardPayload(payload: unknown): void {
  walk(payload, "payload", PAYLOAD_LIMITS.maxDepth, (path) => `${path}: nested deeper than ${PAYLOAD_LIMITS.maxDepth} levels`);
}

/**
 * Firestore's own limits on a map stored in a document (message `metadata`): nesting depth counted from
 * the document (the field itself is level 1), reserved and oversized field names.
 */
export function guardFirestoreMap(value: unknown, field: string, levelOfField = 1): void {
  const allowed = FIRESTORE_LIMITS.maxDepth - levelOfField;
  walk(value, field, allowed, (path) => `${path}: Firestore allows at most ${FIRESTORE_LIMITS.maxDepth} levels of nesting`);
}

function walk(root: unknown, rootPath: string, maxDepth: number, tooDeep: (path: string) => string): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: rootPath, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if ((nodes += 1) > PAYLOAD_LIMITS.maxNodes) throw new GatewayError("INVALID_ARGUMENT", `${rootPath}: more than ${PAYLOAD_LIMITS.maxNodes} values`);
    if (value === null || typeof value !== "object") continue;
    if (depth >= maxDepth) throw new GatewayError("INVALID_ARGUMENT", tooDeep(path));
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: `${path}.${i}`, depth: depth + 1 }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      checkFieldName(key, path);
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
}

function checkFieldName(key: string, parent: string): void {
  if (FIRESTORE_LIMITS.reserved.test(key)) throw new GatewayError("INVALID_ARGUMENT", `${parent}.${key.slice(0, 64)}: field names like __name__ are reserved`);
  if (Buffer.byteLength(key, "utf8") > FIRESTORE_LIMITS.maxFieldNameBytes) {
    throw new GatewayError("INVALID_ARGUMENT", `${parent}.${key.slice(0, 32)}…: field names are at most ${FIRESTORE_LIMITS.maxFieldNameBytes} bytes`);
  }
}
