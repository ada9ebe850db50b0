import { expect } from "chai";
import {
  blocks,
  commandStats,
  commandStatsDelta,
  comparisons,
  cpuTicksFromStat,
  keptUp,
  machineTicksFromProcStat,
  parseRedisInfo,
  percentile,
  placement,
  PointResult,
  readBytesFromIo,
  redisCpuMicros,
} from "../tools/scale-report";

// Arithmetic of the scale measurement (tools/scale.ts); the measurement itself is `npm run scale`, never a test.
describe("scale measurement arithmetic", () => {
  it("reads utime + stime from a /proc stat line whose command holds spaces and parentheses", () => {
    const line = "4242 (node (my worker)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 11 0 500 0 0";
    expect(cpuTicksFromStat(line)).to.equal(1234 + 56);
  });

  it("counts busy and total jiffies of the machine, idle and iowait as not busy", () => {
    const procStat = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n";
    expect(machineTicksFromProcStat(procStat)).to.deep.equal({ busy: 161, total: 981 });
  });

  it("parses Redis INFO: CPU seconds to microseconds and command statistics", () => {
    const info = parseRedisInfo(
      "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250001\r\n# Commandstats\r\n" +
        "cmdstat_spublish:calls=10,usec=40,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n" +
        "cmdstat_eval:calls=4,usec=100,usec_per_call=25.00,rejected_calls=0,failed_calls=0\r\n",
    );
    expect(redisCpuMicros(info)).to.equal(1_750_001);
    const before = commandStats(info);
    const after = new Map(before);
    after.set("spublish", { calls: 30, usec: 100 });
    after.set("set", { calls: 2, usec: 3 });
    expect(commandStatsDelta(before, after)).to.deep.equal([
      { command: "spublish", calls: 20, usec: 60 },
      { command: "set", calls: 2, usec: 3 },
    ]);
  });

  it("reads the bytes a process read from /proc/<pid>/io", () => {
    expect(readBytesFromIo("rchar: 123456\nwchar: 99\nsyscr: 10\n")).to.equal(123456);
  });

  it("takes nearest-rank percentiles", () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).to.equal(5);
    expect(percentile(samples, 99)).to.equal(10);
    expect(percentile(samples, 100)).to.equal(10);
    expect(percentile([], 50)).to.be.NaN;
  });

  it("deals clients round robin and makes each send to a peer on another instance when there are several", () => {
    for (const instances of [2, 4]) {
      const place = placement(400, instances);
      expect(place.every((p, i) => place[p.peer].instance !== place[i].instance)).to.equal(true);
      const perInstance = new Array(instances).fill(0);
      for (const p of place) perInstance[p.instance]++;
      expect(new Set(perInstance).size).to.equal(1);
    }
    expect(placement(3, 1)).to.deep.equal([
      { instance: 0, peer: 1 },
      { instance: 0, peer: 2 },
      { instance: 0, peer: 0 },
    ]);
  });

  it("splits clients over generators in contiguous, even blocks", () => {
    expect(blocks(400, 2)).to.deep.equal([
      [0, 200],
      [200, 400],
    ]);
    expect(blocks(5, 3)).to.deep.equal([
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
  });

  it("says a point kept up only near the target rate and with no skipped sends", () => {
    expect(keptUp(600, 590, 0)).to.equal(true);
    expect(keptUp(600, 500, 0)).to.equal(false);
    expect(keptUp(600, 600, 3)).to.equal(false);
  });

  it("compares classic with sharded only at the same N and rate", () => {
    const point = (adapter: "sharded" | "classic", instances: number, targetRate: number, fleet: number, redis: number, bytes: number) =>
      ({
        adapter,
        instances,
        targetRate,
        perInstance: [{ delivered: 10, readBytesPerDelivered: bytes }],
        fleet: { cpuMicrosPerDelivered: fleet, delivered: 10 },
        redis: { cpuMicrosPerDelivered: redis, outBytesPerDelivered: bytes * 2 },
      }) as unknown as PointResult;
    const result = comparisons([point("sharded", 4, 600, 100, 50, 1000), point("sharded", 2, 600, 90, 40, 900), point("classic", 4, 600, 150, 100, 3000)]);
    expect(result).to.deep.equal([{ instances: 4, targetRate: 600, fleetRatio: 1.5, readRatio: 3, redisRatio: 2, redisOutRatio: 3 }]);
  });
});
