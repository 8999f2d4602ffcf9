import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, helpText, StatusError, type CommandSpec } from '../../src/cli/flags.js';
import { command as runCmd } from '../../src/cli/commands/run.js';
import { command as startCmd } from '../../src/cli/commands/start.js';
import { command as psCmd } from '../../src/cli/commands/ps.js';
import { command as renameCmd } from '../../src/cli/commands/rename.js';

const run = (argv: string[]) => parseArgs(runCmd.spec, 'berth run', argv);

test('combined shorthand bools and shorthand values', () => {
  const p = run(['-it', '-eA=1', '-e', 'B=2', '-e=C=3', '--name=x', 'busybox', 'sh']);
  assert.equal(p.flags.bool('interactive'), true);
  assert.equal(p.flags.bool('tty'), true);
  assert.deepEqual(p.flags.list('env'), ['A=1', 'B=2', 'C=3']);
  assert.equal(p.flags.string('name'), 'x');
  assert.deepEqual(p.args, ['busybox', 'sh']);
});

test('a shorthand value may follow bools in one cluster: -dp 80:80', () => {
  const p = run(['-dp', '80:80', 'busybox']);
  assert.equal(p.flags.bool('detach'), true);
  assert.deepEqual(p.flags.list('publish'), ['80:80']);
});

test('bool flags take =false and keep their defaults otherwise', () => {
  assert.equal(run(['--rm=false', 'busybox']).flags.bool('rm'), false);
  assert.equal(run(['busybox']).flags.bool('sig-proxy'), true);
  assert.equal(run(['--sig-proxy=false', 'busybox']).flags.bool('sig-proxy'), false);
  // `--rm false` is a bool then a positional, as in pflag
  assert.deepEqual(run(['--rm', 'false']).args, ['false']);
});

test('run stops parsing flags at IMAGE; flags after it belong to the command', () => {
  const p = run(['-d', 'busybox', 'ls', '-la', '--rm']);
  assert.equal(p.flags.bool('rm'), false);
  assert.deepEqual(p.args, ['busybox', 'ls', '-la', '--rm']);
});

test('interspersed flags for commands without a command argument, and -- ends flags', () => {
  const p = parseArgs(startCmd.spec, 'berth start', ['a', '-a', 'b']);
  assert.equal(p.flags.bool('attach'), true);
  assert.deepEqual(p.args, ['a', 'b']);
  const q = parseArgs(startCmd.spec, 'berth start', ['--', '-a']);
  assert.deepEqual(q.args, ['-a']);
  assert.equal(q.flags.bool('attach'), false);
});

function flagErr(spec: CommandSpec, path: string, argv: string[], first: string) {
  assert.throws(
    () => parseArgs(spec, path, argv),
    (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.status, 125);
      const usage = path === 'berth ps' ? 'berth ps [OPTIONS]' : 'berth run [OPTIONS] IMAGE [COMMAND] [ARG...]';
      assert.equal(e.message, `${first}\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information`);
      return true;
    },
  );
}

test('docker flag error texts, exit 125', () => {
  flagErr(runCmd.spec, 'berth run', ['--foo', 'busybox'], 'unknown flag: --foo');
  flagErr(psCmd.spec, 'berth ps', ['-x'], "unknown shorthand flag: 'x' in -x");
  flagErr(psCmd.spec, 'berth ps', ['-ax'], "unknown shorthand flag: 'x' in -ax");
  flagErr(psCmd.spec, 'berth ps', ['-n'], "flag needs an argument: 'n' in -n");
  flagErr(psCmd.spec, 'berth ps', ['--last'], 'flag needs an argument: --last');
  flagErr(psCmd.spec, 'berth ps', ['-n', 'abc'], 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax');
  flagErr(psCmd.spec, 'berth ps', ['--all=yes'], 'invalid argument "yes" for "-a, --all" flag: strconv.ParseBool: parsing "yes": invalid syntax');
});

test('argument count errors, exit 1', () => {
  assert.throws(
    () => parseArgs(startCmd.spec, 'berth start', []),
    (e: unknown) =>
      e instanceof StatusError && e.status === 1 &&
      e.message ===
        "berth: 'berth start' requires at least 1 argument\n\nUsage:  berth start [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth start --help' for more information",
  );
  assert.throws(
    () => parseArgs(renameCmd.spec, 'berth rename', ['a']),
    (e: unknown) =>
      e instanceof StatusError &&
      e.message === "berth: 'berth rename' requires 2 arguments\n\nUsage:  berth rename CONTAINER NEW_NAME\n\nRun 'berth rename --help' for more information",
  );
  assert.throws(() => parseArgs(psCmd.spec, 'berth ps', ['x']), /'berth ps' accepts no arguments/);
});

test('--help skips argument checks and renders docker\'s layout', () => {
  const p = parseArgs(startCmd.spec, 'berth start', ['--help']);
  assert.equal(p.help, true);
  assert.equal(
    helpText(startCmd.spec, 'berth start', 80),
    `Usage:  berth start [OPTIONS] CONTAINER [CONTAINER...]

Start one or more stopped containers

Aliases:
  berth container start, berth start

Options:
  -a, --attach                  Attach STDOUT/STDERR and forward signals
      --checkpoint string       Restore from this checkpoint
      --checkpoint-dir string   Use a custom checkpoint storage directory
      --detach-keys string      Override the key sequence for detaching a
                                container
  -i, --interactive             Attach container's STDIN
`,
  );
});

test('help shows non-zero defaults like pflag', () => {
  const h = helpText(psCmd.spec, 'berth ps', 80);
  assert.match(h, /-n, --last int {8}Show n last created containers \(includes all\n {24}states\) \(default -1\)/);
});
