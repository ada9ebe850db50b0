/**
 * A latency histogram in milliseconds that worker processes fill and the runner merges.
 * Log-linear buckets: 10 µs up to 10 ms, 100 µs up to 100 ms, 1 ms up to 1 s, 10 ms up to 60 s.
 * Percentiles are the upper edge of the bucket that holds them (never optimistic by more than a bucket).
 */
const BANDS = [
  { upTo: 10, step: 0.01 },
  { upTo: 100, step: 0.1 },
  { upTo: 1_000, step: 1 },
  { upTo: 60_000, step: 10 },
] as const;

const BAND_START: number[] = [];
let bucketCount = 0;
{
  let from = 0;
  for (const band of BANDS) {
    BAND_START.push(bucketCount);
    bucketCount += Math.round((band.upTo - from) / band.step);
    from = band.upTo;
  }
}
const OVERFLOW = bucketCount;

function indexOf(ms: number): number {
  let from = 0;
  for (let b = 0; b < BANDS.length; b++) {
    const band = BANDS[b];
    if (ms < band.upTo) return BAND_START[b] + Math.floor((Math.max(0, ms) - from) / band.step);
    from = band.upTo;
  }
  return OVERFLOW;
}

function upperEdge(index: number): number {
  if (index >= OVERFLOW) return Infinity;
  let from = 0;
  for (let b = BANDS.length - 1; b >= 0; b--) {
    if (index >= BAND_START[b]) {
      from = b === 0 ? 0 : BANDS[b - 1].upTo;
      return from + (index - BAND_START[b] + 1) * BANDS[b].step;
    }
  }
  return 0;
}

/** The histogram as it travels between processes (sparse). */
export interface HistogramData {
  buckets: Array<[number, number]>;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class Histogram {
  private counts = new Uint32Array(OVERFLOW + 1);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(ms: number): void {
    this.counts[indexOf(ms)] += 1;
    this.count += 1;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram | HistogramData): this {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [index, n] of data.buckets) this.counts[index] += n;
    this.count += data.count;
    this.sum += data.sum;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.min);
      this.max = Math.max(this.max, data.max);
    }
    return this;
  }

  /** The value at quantile q (0..1), as the upper edge of its bucket, capped at the exact maximum. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperEdge(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      mean: this.count ? this.sum / this.count : NaN,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.count ? this.max : NaN,
    };
  }

  toJSON(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max };
  }

  static from(data: HistogramData | undefined): Histogram {
    const h = new Histogram();
    if (data) h.merge(data);
    return h;
  }
}
