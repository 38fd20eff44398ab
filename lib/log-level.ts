/** The relay's log levels (pino's), as its configuration, the topology, the CLI and its HTTP take them. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

// One of LOG_LEVELS.
export type LogLevel = (typeof LOG_LEVELS)[number];
