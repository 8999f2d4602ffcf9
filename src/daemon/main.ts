import { Daemon } from './daemon.js';
import { BERTH_VERSION } from './api/system-routes.js';
import { buildConfig, USAGE } from './daemon-flags.js';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof buildConfig>;
  try {
    parsed = buildConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`berthd: ${(e as Error).message}\nSee 'berthd --help'.\n`);
    process.exit(125);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.version) {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd needs to be started with root privileges. To run it, use sudo or run as root.\n');
    process.exit(1);
  }
  const daemon = new Daemon(parsed.cfg);
  try {
    await daemon.start();
  } catch (e) {
    process.stderr.write(`failed to start daemon: ${(e as Error).message}\n`);
    await daemon.stop().catch(() => undefined);
    process.exit(1);
  }
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    daemon.log('info', `Processing signal '${sig}'`);
    void daemon.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('interrupt'));
  process.on('SIGTERM', () => stop('terminated'));
  process.on('SIGPIPE', () => undefined);
  // One connection's failure must not take every container's API down with it:
  // log what escaped, keep serving.
  process.on('unhandledRejection', (e) => daemon.log('error', `unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  process.on('uncaughtException', (e) => daemon.log('error', `uncaught exception: ${e.stack ?? String(e)}`));
}

void main();
