import { z } from "zod";
import { GatewayError } from "../errors";
import type { RateLimiter } from "../ports/rate-limiter";
import type { UserDirectory } from "../ports/user-directory/user-directory";
import { registerCall, withTimeout } from "./calls";
import { parsePayload } from "./messaging/schemas";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

const PROFILES_MAX = 100;
const findUserSchema = z.object({ email: z.string().trim().toLowerCase().email().max(320) });
const profilesSchema = z.object({ userIds: z.array(z.string().min(1).max(128)).min(1).max(PROFILES_MAX) });

/**
 * `find_user { email }` and `get_profiles { userIds }`: how a client starts a direct chat by email and
 * shows names instead of uids. They reveal only `{ uid, displayName }` (never the email of a uid, nor
 * claims), share the `lookup` rate limit (Redis-backed, per user: guessing emails in bulk is slow), and
 * answer NOT_FOUND for unknown or disabled accounts alike.
 */
export function userLookupFeature(deps: { users: UserDirectory; rateLimiter: RateLimiter }) {
  return (ctx: GatewayContext): GatewayFeature => {
    let lookups = 0;
    const limit = async (socket: GatewaySocket) => {
      const rule = ctx.config.rateLimits.lookup;
      if (!rule) return;
      const decision = await deps.rateLimiter.consume(`lookup:${socket.data.uid}`, rule.limit, rule.windowMs);
      if (!decision.allowed) {
        throw new GatewayError("RATE_LIMITED", `At most ${rule.limit} user lookups per ${rule.windowMs / 1000} s.`, { retryAfterMs: decision.retryAfterMs });
      }
    };
    const directory = <T>(operation: Promise<T>) =>
      withTimeout(operation, ctx.config.storeTimeoutMs, "the user directory").catch((error) => {
        if (error instanceof GatewayError) throw error;
        ctx.logger.warn("user lookup failed", { error: String(error) });
        throw new GatewayError("UNAVAILABLE", "The user directory failed; retry later.");
      });

    return {
      name: "userLookup",
      onConnection(socket) {
        const options = { logger: ctx.logger };
        registerCall(socket, "find_user", async (raw) => {
          const { email } = parsePayload(findUserSchema, raw);
          await limit(socket);
          lookups += 1;
          const user = await directory(deps.users.findByEmail(email));
          if (!user || user.uid === socket.data.uid) throw new GatewayError("NOT_FOUND", "No other user has this email.");
          return { user };
        }, options);
        registerCall(socket, "get_profiles", async (raw) => {
          const { userIds } = parsePayload(profilesSchema, raw);
          await limit(socket);
          lookups += 1;
          return { profiles: await directory(deps.users.profiles(userIds)) };
        }, options);
      },
      stats: () => ({ lookups }),
    };
  };
}
