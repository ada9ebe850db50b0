export type LogFields = Record<string, unknown>;

/** The logging port. Hosts give the gateway theirs (firebase-functions logger, JSON lines, silence). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = keyof Logger;
const levelRank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured JSON lines on stdout/stderr, the format Cloud Logging and most collectors parse. */
export function createJsonLogger(minLevel: Level = "info", base: LogFields = {}): Logger {
  const write = (level: Level) => (message: string, fields: LogFields = {}) => {
    if (levelRank[level] < levelRank[minLevel]) return;
    const line = JSON.stringify({ severity: level.toUpperCase(), message, time: new Date().toISOString(), ...base, ...fields });
    (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
