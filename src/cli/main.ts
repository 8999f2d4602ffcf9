// Entry point of the berth CLI when no bundle was built (bin/berth runs it then).
import { runCli } from './app.js';

// bin/berth kept it from node's start-up (see there); the user's processes still get it
if (process.env.BERTH_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.BERTH_NODE_EXTRA_CA_CERTS;
  delete process.env.BERTH_NODE_EXTRA_CA_CERTS;
}

const status = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // on first use (see app.ts)
  get stdin() {
    return process.stdin;
  },
  env: process.env,
});
// let pending writes to pipes drain before exiting
process.stdout.write('', () => process.exit(status));
