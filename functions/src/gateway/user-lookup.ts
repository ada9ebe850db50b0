import { z } from "zod";
import { GatewayError } from "../errors";
import type { UserDirectory } from "../ports/user-directory/user-directory";
import { withTimeout } from "../util/with-timeout";
import { idSchema } from "./payloads";
import type { FeatureFactory, GatewayContext } from "./types";

const PROFILES_MAX = 100;
const findUserSchema = z.object({ email: z.string().trim().toLowerCase().email().max(320) });
const profilesSchema = z.object({ userIds: z.array(idSchema).min(1).max(PROFILES_MAX) });

/**
 * `find_user { email }` and `get_profiles { userIds }`: how a client starts a direct chat by email and
 * shows names instead of uids. They reveal only `{ uid, displayName }` (never the email of a uid, nor
 * claims), share the `lookup` rate limit (per user, through Redis: guessing emails in bulk is slow), and
 * answer NOT_FOUND alike for unknown and disabled accounts and one's own email.
 */
export function userLookupFeature(ports: { users: UserDirectory }): FeatureFactory {
  return (ctx: GatewayContext) => {
    const directory = <T>(operation: Promise<T>): Promise<T> =>
      withTimeout(operation, ctx.config.storeTimeoutMs, () => new GatewayError("UNAVAILABLE", "The user directory did not answer in time; retry later.")).catch((error) => {
        if (error instanceof GatewayError) throw error;
        ctx.logger.warn("user lookup failed", { error: String(error) });
        throw new GatewayError("UNAVAILABLE", "The user directory failed; retry later.");
      });
    ctx.calls.define("find_user", {
      schema: findUserSchema,
      rateLimit: "lookup",
      async handle({ email }, socket) {
        const user = await directory(ports.users.findByEmail(email));
        if (!user || user.uid === socket.data.uid) throw new GatewayError("NOT_FOUND", "No other user has this email.");
        return { user };
      },
    });
    ctx.calls.define("get_profiles", {
      schema: profilesSchema,
      rateLimit: "lookup",
      handle: async ({ userIds }) => ({ profiles: await directory(ports.users.profiles(userIds)) }),
    });
    return { name: "user-lookup" };
  };
}
