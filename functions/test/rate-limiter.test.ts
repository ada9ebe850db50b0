import { expect } from "chai";
import Redis from "ioredis";
import { freePort } from "../tools/free-port";
import { systemClock } from "../src/ports/clock";
import { RateLimiter, RateLimiterFacade } from "../src/ports/rate-limiter";
import { MemoryRateLimiter } from "../src/ports/rate-limiter/memory-rate-limiter";
import { RedisRateLimiter } from "../src/ports/rate-limiter/redis-rate-limiter";
import { environment } from "./support/environment";
import { settle } from "./support/wait";

const connections: Redis[] = [];
function connect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 500, lazyConnect: false });
  redis.on("error", () => undefined);
  connections.push(redis);
  return redis;
}
async function ready(redis: Redis) {
  if (redis.status !== "ready") await new Promise((r) => redis.once("ready", r));
}

function behavesAsAFixedWindow(make: () => Promise<RateLimiter>) {
  it("allows `limit` attempts per window, then refuses with the time until the window resets", async () => {
    const limiter = await make();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consume("broadcast:alice", 3, 60_000));

    expect(decisions.slice(0, 3).every((d) => d.allowed)).to.equal(true);
    expect(decisions[3].allowed).to.equal(false);
    expect(decisions[3].retryAfterMs).to.be.above(0).and.at.most(60_000);
  });

  it("counts each key on its own", async () => {
    const limiter = await make();
    await limiter.consume("a", 1, 60_000);

    expect((await limiter.consume("a", 1, 60_000)).allowed).to.equal(false);
    expect((await limiter.consume("b", 1, 60_000)).allowed).to.equal(true);
  });

  it("opens a new window once the old one is over", async () => {
    const limiter = await make();
    await limiter.consume("k", 1, 150);
    expect((await limiter.consume("k", 1, 150)).allowed).to.equal(false);

    await settle(200); // the 150 ms window ends

    expect((await limiter.consume("k", 1, 150)).allowed).to.equal(true);
  });

  it("a blocked key is refused whatever its limit until the block ends, with the time left", async () => {
    const limiter = await make();
    await limiter.block("k", 150);
    const refused = await limiter.consume("k", 1_000, 60_000);
    expect(refused.allowed).to.equal(false);
    expect(refused.retryAfterMs).to.be.within(1, 150);
    expect((await limiter.consume("other", 1, 60_000)).allowed).to.equal(true);

    await settle(200);

    expect((await limiter.consume("k", 1, 60_000)).allowed).to.equal(true);
  });
}

describe("rate limiter port (memory, Redis, fallback)", () => {
  afterEach(() => connections.splice(0).forEach((c) => c.disconnect()));

  describe("in memory", () => behavesAsAFixedWindow(async () => new MemoryRateLimiter(systemClock)));

  describe("on Redis", () => {
    behavesAsAFixedWindow(async () => {
      const redis = connect(environment().redis.url);
      await ready(redis);
      return new RedisRateLimiter(redis);
    });

    it("shares the count between instances", async () => {
      const [one, two] = [connect(environment().redis.url), connect(environment().redis.url)];
      await Promise.all([ready(one), ready(two)]);
      await new RedisRateLimiter(one).consume("shared", 1, 60_000);

      expect((await new RedisRateLimiter(two).consume("shared", 1, 60_000)).allowed).to.equal(false);
    });
  });

  it("falls back to memory while Redis does not answer", async () => {
    const nobody = connect(`redis://127.0.0.1:${await freePort()}`);
    const limiter = new RateLimiterFacade(systemClock, nobody);

    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await limiter.consume("x", 2, 60_000));

    expect(decisions.map((d) => d.allowed)).to.deep.equal([true, true, false]);
  });
});
