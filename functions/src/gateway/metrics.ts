import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every figure of one gateway instance, declared once. Features update these; `/status` (through
 * `Gateway.stats()`) and Prometheus `GET /metrics` both read them, so the two can never disagree.
 * Names follow Prometheus conventions: `talowa_` prefix, `_total` counters, `_seconds` histograms.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connectionsActive = this.gauge("talowa_connections_active", "Sockets connected and authenticated now.");
  readonly connectionsPeak = this.gauge("talowa_connections_peak", "Most sockets connected at once since start.");
  readonly connectionsAdmitted = this.counter("talowa_connections_admitted_total", "Sockets admitted since start.");
  readonly connectionsRefused = this.counter("talowa_connections_refused_total", "Connections refused, by reason.", ["reason"]);
  readonly uniqueUsers = this.gauge("talowa_users_connected", "Distinct users with a socket on this instance.");
  readonly events = this.counter("talowa_events_total", "Client calls handled, by event and result code (OK on success).", ["event", "code"]);
  readonly unknownEvents = this.counter("talowa_unknown_events_total", "Events no handler knows.");
  readonly sendLatency = this.histogram("talowa_send_latency_seconds", "send_message from receipt to ack (stored).", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  readonly storeLatency = this.histogram("talowa_store_latency_seconds", "Message-store calls, by operation.", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], ["operation"]);
  readonly fanout = this.histogram("talowa_fanout_recipients", "Recipients of each stored message (the sender excluded).", [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000]);
  readonly messagesSent = this.counter("talowa_messages_sent_total", "Messages stored and routed (first attempts).");
  readonly duplicateSends = this.counter("talowa_messages_duplicate_total", "Resends of an already stored clientId.");
  readonly recipientsTargeted = this.counter("talowa_message_recipients_total", "Recipients of stored messages.");
  readonly deliveriesConfirmed = this.counter("talowa_deliveries_confirmed_total", "Messages confirmed delivered by a recipient (mark_delivered).");
  readonly queueWrites = this.counter("talowa_offline_queue_writes_total", "Offline-queue entries written.");
  readonly unreadCountsSkipped = this.counter("talowa_notification_counts_skipped_total", "Admissions that counted no unread notifications because the user was known to have none (notification markers).");
  readonly queueReadsSkipped = this.counter("talowa_offline_queue_reads_skipped_total", "Admissions that read no offline queue because it was known to be empty (queue markers).");
  readonly queueFlushes = this.counter("talowa_offline_queue_flushes_total", "Offline-queue flushes to a connecting or confirming socket.");
  readonly queueFlushedEntries = this.counter("talowa_offline_queue_flushed_entries_total", "Offline-queue entries handed to sockets.");
  readonly slowClientsDisconnected = this.counter("talowa_slow_clients_disconnected_total", "Sockets closed because their backlog passed the bound.");
  readonly broadcastsDelivered = this.counter("talowa_broadcasts_delivered_total", "Emergency broadcasts emitted to sockets here (per socket).");
  readonly broadcastsReplayed = this.counter("talowa_broadcasts_replayed_total", "Missed emergency broadcasts replayed at connect.");
  readonly fleetCommands = this.counter("talowa_fleet_commands_total", "Fleet control commands handled.");
  readonly sessionsEnded = this.counter("talowa_sessions_ended_total", "Sessions ended by the server: token expired, account disabled or revoked, admin kick, by reason.", ["reason"]);
  readonly fleetCommandsRejected = this.counter("talowa_fleet_commands_rejected_total", "Fleet control messages ignored: unsigned, badly signed, stale or replayed.");
  readonly controlRefused = this.counter("talowa_control_refused_total", "Control-route requests refused for a missing or wrong CONTROL_SECRET, by route.", ["route"]);
  readonly presenceMode = this.gauge("talowa_presence_mode", "1 for the presence store in use (redis or memory).", ["mode"]);
  readonly redisUp = this.gauge("talowa_redis_up", "1 while the gateway's Redis answers, 0 while it does not (absent without Redis).");
  readonly loadShed = this.counter("talowa_load_shed_total", "Work refused at once with UNAVAILABLE because the instance was at a bound, by kind (store: store operations in flight, cpu: event-loop lag, admission: connections being admitted).", ["kind"]);
  readonly storeOpsInFlight = this.gauge("talowa_store_ops_in_flight", "Message-store operations of client requests in flight now.");
  readonly admissionsPending = this.gauge("talowa_admissions_pending", "Connections between the handshake and auth_success now.");
  readonly firestoreUp = this.gauge("talowa_store_up", "1 while the message store's last call succeeded, 0 after a failure.");

  constructor() {
    this.firestoreUp.set(1);
  }

  /** Prometheus text of this instance plus the process's default metrics (event loop, GC, heap). */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processRegistry(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  private counter(name: string, help: string, labelNames: string[] = []) {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string, labelNames: string[] = []) {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, buckets: number[], labelNames: string[] = []) {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}

let defaults: Registry | undefined;

/** Default metrics are per process (several gateways may share one in tests): collected once. */
function processRegistry(): Registry {
  if (!defaults) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
  }
  return defaults;
}

type Metric = Counter | Gauge;

/** The current value of a counter or gauge (one label set, or the sum over all of them). */
export async function valueOf(metric: Metric, labels?: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  const matching = labels ? values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)) : values;
  return matching.reduce((sum, v) => sum + v.value, 0);
}

/** Values of a labelled counter by one label, e.g. errors by code. */
export async function valuesBy(metric: Metric, label: string, keep: (labels: Partial<Record<string, string | number>>) => boolean = () => true): Promise<Record<string, number>> {
  const { values } = await metric.get();
  const out: Record<string, number> = {};
  for (const v of values) {
    if (!keep(v.labels)) continue;
    const key = String(v.labels[label]);
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}
