import type { Route } from "./types";

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

/**
 * The smallest router that does the job: literal segments win over `:params` (so `/presence/online`
 * is never read as a user id), a path known under other methods answers which ones are allowed.
 */
export function matchRoute(routes: Route[], method: string, path: string): Match {
  const segments = splitPath(path);
  const candidates = routes
    .map((route) => ({ route, params: matchSegments(splitPath(route.pattern), segments) }))
    .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined)
    .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
  if (candidates.length === 0) return undefined;
  const fewestParams = Object.keys(candidates[0].params).length;
  const best = candidates.filter((c) => Object.keys(c.params).length === fewestParams);
  const hit = best.find((c) => c.route.method === method.toUpperCase());
  return hit ?? { allowed: [...new Set(best.map((c) => c.route.method))] };
}

function splitPath(path: string): string[] {
  return path.split("?")[0].split("/").filter(Boolean);
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    if (pattern[i].startsWith(":")) {
      let value: string;
      try {
        value = decodeURIComponent(segments[i]);
      } catch {
        return undefined;
      }
      params[pattern[i].slice(1)] = value;
    } else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}
