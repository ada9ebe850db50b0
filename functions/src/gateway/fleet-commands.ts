import { LRUCache } from "lru-cache";
import { openEnvelope } from "./control-auth";
import type { FleetCommand } from "./fleet-protocol";

/** A signed command older (or newer) than this is ignored: the replay window. */
export const FLEET_COMMAND_WINDOW_MS = 60_000;

/**
 * Instance side of the signed fleet channel: a command is obeyed only when its HMAC (CONTROL_SECRET)
 * verifies, its timestamp is within the window and its id was not seen in that window (seen ids are
 * kept in a bounded LRU for longer than the window, so a captured command cannot be replayed).
 */
export class FleetCommandVerifier {
  private readonly seen = new LRUCache<string, true>({ max: 10_000, ttl: 2 * FLEET_COMMAND_WINDOW_MS });

  constructor(
    private readonly secret: string,
    private readonly now: () => number,
  ) {}

  open(message: string): FleetCommand | undefined {
    const payload = openEnvelope(message, this.secret, this.now(), FLEET_COMMAND_WINDOW_MS);
    if (!payload) return undefined;
    let command: FleetCommand;
    try {
      command = JSON.parse(payload) as FleetCommand;
    } catch {
      return undefined;
    }
    if (typeof command?.id !== "string" || !["admit", "drain", "broadcast", "end_sessions"].includes(command.type)) return undefined;
    if (this.seen.has(command.id)) return undefined;
    this.seen.set(command.id, true);
    return command;
  }
}
