const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];
export type Logger = (level: string, msg: string) => void;

/** logrus-like lines on stderr, filtered by --log-level. */
export function createLogger(min: Level): Logger {
  const minIdx = LEVELS.indexOf(min);
  return (level, msg) => {
    const idx = LEVELS.indexOf(level as Level);
    if (idx < minIdx) return;
    process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`);
  };
}
