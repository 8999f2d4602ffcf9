// The berth command tree: global flags, docker's command and management-command layout,
// error printing and exit codes.
import type { Readable, Writable } from 'node:stream';
import type { Command, Ctx } from './command.js';
import { ApiClient, resolveHost } from './client.js';
import { parseArgs, helpText, StatusError, PROG, type CommandSpec } from './flags.js';
import { BERTH_VERSION } from './meta.js';

type Loader = () => Promise<{ command: Command }>;

const L = {
  attach: () => import('./commands/attach.js'),
  build: () => import('./commands/build.js'),
  builderPrune: () => import('./commands/builder_prune.js'),
  commit: () => import('./commands/commit.js'),
  diff: () => import('./commands/diff.js'),
  events: () => import('./commands/events.js'),
  export: () => import('./commands/export.js'),
  cp: () => import('./commands/cp.js'),
  create: () => import('./commands/create.js'),
  exec: () => import('./commands/exec.js'),
  history: () => import('./commands/history.js'),
  images: () => import('./commands/images.js'),
  import: () => import('./commands/import.js'),
  info: () => import('./commands/info.js'),
  inspect: () => import('./commands/inspect.js'),
  containerInspect: () => import('./commands/container_inspect.js'),
  containerPrune: () => import('./commands/container_prune.js'),
  imagePrune: () => import('./commands/image_prune.js'),
  systemDf: () => import('./commands/system_df.js'),
  systemPrune: () => import('./commands/system_prune.js'),
  volumeCreate: () => import('./commands/volume_create.js'),
  volumeInspect: () => import('./commands/volume_inspect.js'),
  volumeLs: () => import('./commands/volume_ls.js'),
  volumePrune: () => import('./commands/volume_prune.js'),
  volumeRm: () => import('./commands/volume_rm.js'),
  imageInspect: () => import('./commands/image_inspect.js'),
  kill: () => import('./commands/kill.js'),
  load: () => import('./commands/load.js'),
  logs: () => import('./commands/logs.js'),
  login: () => import('./commands/login.js'),
  logout: () => import('./commands/logout.js'),
  pull: () => import('./commands/pull.js'),
  push: () => import('./commands/push.js'),
  pause: () => import('./commands/pause.js'),
  ps: () => import('./commands/ps.js'),
  rename: () => import('./commands/rename.js'),
  restart: () => import('./commands/restart.js'),
  rm: () => import('./commands/rm.js'),
  rmi: () => import('./commands/rmi.js'),
  run: () => import('./commands/run.js'),
  save: () => import('./commands/save.js'),
  start: () => import('./commands/start.js'),
  stats: () => import('./commands/stats.js'),
  stop: () => import('./commands/stop.js'),
  tag: () => import('./commands/tag.js'),
  top: () => import('./commands/top.js'),
  unpause: () => import('./commands/unpause.js'),
  update: () => import('./commands/update.js'),
  version: () => import('./commands/version.js'),
  wait: () => import('./commands/wait.js'),
  composeConfig: () => import('./commands/compose_config.js'),
  port: () => import('./commands/port.js'),
  networkCreate: () => import('./commands/network_create.js'),
  networkLs: () => import('./commands/network_ls.js'),
  networkInspect: () => import('./commands/network_inspect.js'),
  networkRm: () => import('./commands/network_rm.js'),
  networkPrune: () => import('./commands/network_prune.js'),
  networkConnect: () => import('./commands/network_connect.js'),
  networkDisconnect: () => import('./commands/network_disconnect.js'),
} satisfies Record<string, Loader>;

interface Entry {
  load: Loader;
  short: string;
}

const TOP: Record<string, Entry> = {
  attach: { load: L.attach, short: 'Attach local standard input, output, and error streams to a running container' },
  build: { load: L.build, short: 'Build an image from a Dockerfile' },
  commit: { load: L.commit, short: "Create a new image from a container's changes" },
  cp: { load: L.cp, short: 'Copy files/folders between a container and the local filesystem' },
  create: { load: L.create, short: 'Create a new container' },
  diff: { load: L.diff, short: "Inspect changes to files or directories on a container's filesystem" },
  events: { load: L.events, short: 'Get real time events from the server' },
  exec: { load: L.exec, short: 'Execute a command in a running container' },
  export: { load: L.export, short: "Export a container's filesystem as a tar archive" },
  history: { load: L.history, short: 'Show the history of an image' },
  images: { load: L.images, short: 'List images' },
  import: { load: L.import, short: 'Import the contents from a tarball to create a filesystem image' },
  info: { load: L.info, short: 'Display system-wide information' },
  inspect: { load: L.inspect, short: 'Return low-level information on Docker objects' },
  kill: { load: L.kill, short: 'Kill one or more running containers' },
  load: { load: L.load, short: 'Load an image from a tar archive or STDIN' },
  login: { load: L.login, short: 'Authenticate to a registry' },
  logout: { load: L.logout, short: 'Log out from a registry' },
  logs: { load: L.logs, short: 'Fetch the logs of a container' },
  pause: { load: L.pause, short: 'Pause all processes within one or more containers' },
  ps: { load: L.ps, short: 'List containers' },
  pull: { load: L.pull, short: 'Download an image from a registry' },
  push: { load: L.push, short: 'Upload an image to a registry' },
  rename: { load: L.rename, short: 'Rename a container' },
  port: { load: L.port, short: 'List port mappings or a specific mapping for the container' },
  restart: { load: L.restart, short: 'Restart one or more containers' },
  rm: { load: L.rm, short: 'Remove one or more containers' },
  rmi: { load: L.rmi, short: 'Remove one or more images' },
  run: { load: L.run, short: 'Create and run a new container from an image' },
  save: { load: L.save, short: 'Save one or more images to a tar archive (streamed to STDOUT by default)' },
  start: { load: L.start, short: 'Start one or more stopped containers' },
  stats: { load: L.stats, short: 'Display a live stream of container(s) resource usage statistics' },
  stop: { load: L.stop, short: 'Stop one or more running containers' },
  tag: { load: L.tag, short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  top: { load: L.top, short: 'Display the running processes of a container' },
  unpause: { load: L.unpause, short: 'Unpause all processes within one or more containers' },
  update: { load: L.update, short: 'Update configuration of one or more containers' },
  version: { load: L.version, short: 'Show the berth version information' },
  wait: { load: L.wait, short: 'Block until one or more containers stop, then print their exit codes' },
};

/** `compose` subcommands other than config: one lazily loaded file each (src/cli/commands/compose_*.ts) */
function composeSubs(): Record<string, { entry: Entry; names: string[] }> {
  const subs: Array<[string, string, () => Promise<{ command: Command }>]> = [
    ['attach', "Attach local standard input, output, and error streams to a service's running container", () => import('./commands/compose_attach.js')],
    ['build', 'Build or rebuild services', () => import('./commands/compose_build.js')],
    ['commit', "Create a new image from a service container's changes", () => import('./commands/compose_commit.js')],
    ['cp', 'Copy files/folders between a service container and the local filesystem', () => import('./commands/compose_cp.js')],
    ['create', 'Creates containers for a service', () => import('./commands/compose_create.js')],
    ['down', 'Stop and remove containers, networks', () => import('./commands/compose_down.js')],
    ['events', 'Receive real time events from containers', () => import('./commands/compose_events.js')],
    ['export', "Export a service container's filesystem as a tar archive", () => import('./commands/compose_export.js')],
    ['exec', 'Execute a command in a running container', () => import('./commands/compose_exec.js')],
    ['images', 'List images used by the created containers', () => import('./commands/compose_images.js')],
    ['kill', 'Force stop service containers', () => import('./commands/compose_kill.js')],
    ['logs', 'View output from containers', () => import('./commands/compose_logs.js')],
    ['ls', 'List running compose projects', () => import('./commands/compose_ls.js')],
    ['pause', 'Pause services', () => import('./commands/compose_pause.js')],
    ['port', 'Print the public port for a port binding', () => import('./commands/compose_port.js')],
    ['ps', 'List containers', () => import('./commands/compose_ps.js')],
    ['pull', 'Pull service images', () => import('./commands/compose_pull.js')],
    ['push', 'Push service images', () => import('./commands/compose_push.js')],
    ['restart', 'Restart service containers', () => import('./commands/compose_restart.js')],
    ['rm', 'Removes stopped service containers', () => import('./commands/compose_rm.js')],
    ['run', 'Run a one-off command on a service', () => import('./commands/compose_run.js')],
    ['scale', 'Scale services ', () => import('./commands/compose_scale.js')],
    ['start', 'Start services', () => import('./commands/compose_start.js')],
    ['stats', 'Display a live stream of container(s) resource usage statistics', () => import('./commands/compose_stats.js')],
    ['stop', 'Stop services', () => import('./commands/compose_stop.js')],
    ['top', 'Display the running processes', () => import('./commands/compose_top.js')],
    ['unpause', 'Unpause services', () => import('./commands/compose_unpause.js')],
    ['up', 'Create and start containers', () => import('./commands/compose_up.js')],
    ['version', 'Show the Docker Compose version information', () => import('./commands/compose_version.js')],
    ['volumes', 'List volumes', () => import('./commands/compose_volumes.js')],
    ['wait', 'Block until containers of all (or specified) services stop.', () => import('./commands/compose_wait.js')],
    ['watch', 'Watch build context for service and rebuild/refresh containers when files are updated', () => import('./commands/compose_watch.js')],
  ];
  return Object.fromEntries(subs.map(([n, short, load]) => [n, { entry: { load, short }, names: [] }]));
}

/** subcommand → [top-level entry or loader, aliases] */
const GROUPS: Record<string, { short: string; subs: Record<string, { entry: Entry; names: string[] }> }> = {
  container: {
    short: 'Manage containers',
    subs: {
      attach: { entry: TOP.attach, names: [] },
      commit: { entry: TOP.commit, names: [] },
      cp: { entry: TOP.cp, names: [] },
      create: { entry: TOP.create, names: [] },
      diff: { entry: TOP.diff, names: [] },
      exec: { entry: TOP.exec, names: [] },
      export: { entry: TOP.export, names: [] },
      inspect: { entry: { load: L.containerInspect, short: 'Display detailed information on one or more containers' }, names: [] },
      kill: { entry: TOP.kill, names: [] },
      logs: { entry: TOP.logs, names: [] },
      ls: { entry: TOP.ps, names: ['list', 'ps'] },
      pause: { entry: TOP.pause, names: [] },
      port: { entry: TOP.port, names: [] },
      prune: { entry: { load: L.containerPrune, short: 'Remove all stopped containers' }, names: [] },
      rename: { entry: TOP.rename, names: [] },
      restart: { entry: TOP.restart, names: [] },
      rm: { entry: TOP.rm, names: ['remove'] },
      run: { entry: TOP.run, names: [] },
      start: { entry: TOP.start, names: [] },
      stats: { entry: TOP.stats, names: [] },
      stop: { entry: TOP.stop, names: [] },
      top: { entry: TOP.top, names: [] },
      unpause: { entry: TOP.unpause, names: [] },
      update: { entry: TOP.update, names: [] },
      wait: { entry: TOP.wait, names: [] },
    },
  },
  image: {
    short: 'Manage images',
    subs: {
      build: { entry: TOP.build, names: [] },
      history: { entry: TOP.history, names: [] },
      import: { entry: TOP.import, names: [] },
      inspect: { entry: { load: L.imageInspect, short: 'Display detailed information on one or more images' }, names: [] },
      load: { entry: TOP.load, names: [] },
      pull: { entry: TOP.pull, names: [] },
      push: { entry: TOP.push, names: [] },
      ls: { entry: TOP.images, names: ['list'] },
      prune: { entry: { load: L.imagePrune, short: 'Remove unused images' }, names: [] },
      rm: { entry: TOP.rmi, names: ['remove'] },
      save: { entry: TOP.save, names: [] },
      tag: { entry: TOP.tag, names: [] },
    },
  },
  compose: {
    short: 'Docker Compose',
    subs: {
      config: { entry: { load: L.composeConfig, short: 'Parse, resolve and render compose file in canonical format' }, names: [] },
      ...composeSubs(),
    },
  },
  volume: {
    short: 'Manage volumes',
    subs: {
      create: { entry: { load: L.volumeCreate, short: 'Create a volume' }, names: [] },
      inspect: { entry: { load: L.volumeInspect, short: 'Display detailed information on one or more volumes' }, names: [] },
      ls: { entry: { load: L.volumeLs, short: 'List volumes' }, names: ['list'] },
      prune: { entry: { load: L.volumePrune, short: 'Remove unused local volumes' }, names: [] },
      rm: { entry: { load: L.volumeRm, short: 'Remove one or more volumes' }, names: ['remove'] },
    },
  },
  network: {
    short: 'Manage networks',
    subs: {
      connect: { entry: { load: L.networkConnect, short: 'Connect a container to a network' }, names: [] },
      create: { entry: { load: L.networkCreate, short: 'Create a network' }, names: [] },
      disconnect: { entry: { load: L.networkDisconnect, short: 'Disconnect a container from a network' }, names: [] },
      inspect: { entry: { load: L.networkInspect, short: 'Display detailed information on one or more networks' }, names: [] },
      ls: { entry: { load: L.networkLs, short: 'List networks' }, names: ['list'] },
      prune: { entry: { load: L.networkPrune, short: 'Remove all unused networks' }, names: [] },
      rm: { entry: { load: L.networkRm, short: 'Remove one or more networks' }, names: ['remove'] },
    },
  },
  swarm: {
    short: 'Manage Swarm',
    subs: Object.fromEntries(
      ([
        ['ca', 'Display and rotate the root CA', () => import('./commands/swarm_ca.js')],
        ['init', 'Initialize a swarm', () => import('./commands/swarm_init.js')],
        ['inspect', 'Display detailed information on the swarm', () => import('./commands/swarm_inspect.js')],
        ['join', 'Join a swarm as a node and/or manager', () => import('./commands/swarm_join.js')],
        ['join-token', 'Manage join tokens', () => import('./commands/swarm_join_token.js')],
        ['leave', 'Leave the swarm', () => import('./commands/swarm_leave.js')],
        ['unlock', 'Unlock swarm', () => import('./commands/swarm_unlock.js')],
        ['unlock-key', 'Manage the unlock key', () => import('./commands/swarm_unlock_key.js')],
        ['update', 'Update the swarm', () => import('./commands/swarm_update.js')],
      ] as Array<[string, string, Loader]>).map(([n, short, load]) => [n, { entry: { load, short }, names: [] }]),
    ),
  },
  node: {
    short: 'Manage Swarm nodes',
    subs: Object.fromEntries(
      ([
        ['demote', 'Demote one or more nodes from manager in the swarm', () => import('./commands/node_demote.js'), []],
        ['inspect', 'Display detailed information on one or more nodes', () => import('./commands/node_inspect.js'), []],
        ['ls', 'List nodes in the swarm', () => import('./commands/node_ls.js'), ['list']],
        ['promote', 'Promote one or more nodes to manager in the swarm', () => import('./commands/node_promote.js'), []],
        ['ps', 'List tasks running on one or more nodes, defaults to current node', () => import('./commands/node_ps.js'), []],
        ['rm', 'Remove one or more nodes from the swarm', () => import('./commands/node_rm.js'), ['remove']],
        ['update', 'Update a node', () => import('./commands/node_update.js'), []],
      ] as Array<[string, string, Loader, string[]]>).map(([n, short, load, names]) => [n, { entry: { load, short }, names }]),
    ),
  },
  service: {
    short: 'Manage Swarm services',
    subs: Object.fromEntries(
      ([
        ['create', 'Create a new service', () => import('./commands/service_create.js'), []],
        ['inspect', 'Display detailed information on one or more services', () => import('./commands/service_inspect.js'), []],
        ['logs', 'Fetch the logs of a service or task', () => import('./commands/service_logs.js'), []],
        ['ls', 'List services', () => import('./commands/service_ls.js'), ['list']],
        ['ps', 'List the tasks of one or more services', () => import('./commands/service_ps.js'), []],
        ['rm', 'Remove one or more services', () => import('./commands/service_rm.js'), ['remove']],
        ['rollback', "Revert changes to a service's configuration", () => import('./commands/service_rollback.js'), []],
        ['scale', 'Scale one or multiple replicated services', () => import('./commands/service_scale.js'), []],
        ['update', 'Update a service', () => import('./commands/service_update.js'), []],
      ] as Array<[string, string, Loader, string[]]>).map(([n, short, load, names]) => [n, { entry: { load, short }, names }]),
    ),
  },
  stack: {
    short: 'Manage Swarm stacks',
    subs: Object.fromEntries(
      ([
        ['deploy', 'Deploy a new stack or update an existing stack', () => import('./commands/stack_deploy.js'), ['up']],
        ['ls', 'List stacks', () => import('./commands/stack_ls.js'), ['list']],
        ['ps', 'List the tasks in the stack', () => import('./commands/stack_ps.js'), []],
        ['rm', 'Remove one or more stacks', () => import('./commands/stack_rm.js'), ['remove', 'down']],
        ['services', 'List the services in the stack', () => import('./commands/stack_services.js'), []],
      ] as Array<[string, string, Loader, string[]]>).map(([n, short, load, names]) => [n, { entry: { load, short }, names }]),
    ),
  },
  secret: {
    short: 'Manage Swarm secrets',
    subs: Object.fromEntries(
      ([
        ['create', 'Create a secret from a file or STDIN as content', () => import('./commands/secret_create.js'), []],
        ['inspect', 'Display detailed information on one or more secrets', () => import('./commands/secret_inspect.js'), []],
        ['ls', 'List secrets', () => import('./commands/secret_ls.js'), ['list']],
        ['rm', 'Remove one or more secrets', () => import('./commands/secret_rm.js'), ['remove']],
      ] as Array<[string, string, Loader, string[]]>).map(([n, short, load, names]) => [n, { entry: { load, short }, names }]),
    ),
  },
  config: {
    short: 'Manage Swarm configs',
    subs: Object.fromEntries(
      ([
        ['create', 'Create a config from a file or STDIN as content', () => import('./commands/config_create.js'), []],
        ['inspect', 'Display detailed information on one or more configs', () => import('./commands/config_inspect.js'), []],
        ['ls', 'List configs', () => import('./commands/config_ls.js'), ['list']],
        ['rm', 'Remove one or more configs', () => import('./commands/config_rm.js'), ['remove']],
      ] as Array<[string, string, Loader, string[]]>).map(([n, short, load, names]) => [n, { entry: { load, short }, names }]),
    ),
  },
  builder: {
    short: 'Manage builds',
    subs: {
      build: { entry: TOP.build, names: [] },
      prune: { entry: { load: L.builderPrune, short: 'Remove build cache' }, names: [] },
    },
  },
  system: {
    short: 'Manage Docker',
    subs: {
      df: { entry: { load: L.systemDf, short: 'Show docker disk usage' }, names: [] },
      events: { entry: TOP.events, names: [] },
      info: { entry: TOP.info, names: [] },
      prune: { entry: { load: L.systemPrune, short: 'Remove unused data' }, names: [] },
    },
  },
};

export const rootSpec: CommandSpec = {
  use: `${PROG} [OPTIONS] COMMAND`,
  short: 'A self-sufficient runtime for containers',
  flags: [
    { name: 'config', type: 'string', usage: 'Location of client config files', def: '/root/.docker' },
    { name: 'context', short: 'c', type: 'string', usage: 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")' },
    { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
    { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
    { name: 'log-level', short: 'l', type: 'string', usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', def: 'info' },
    { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
    { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA' },
    { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file' },
    { name: 'tlskey', type: 'string', usage: 'Path to TLS key file' },
    { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
    { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
  ],
  stopAtFirstArg: true,
};

export interface IO {
  stdout: Ctx['stdout'];
  stderr: Writable;
  stdin: Ctx['stdin'];
  env: NodeJS.ProcessEnv;
}

function pad(s: string, n: number): string {
  return s.padEnd(n);
}

function rootHelp(): string {
  const cmds = Object.entries(TOP).map(([n, e]) => `  ${pad(n, 11)} ${e.short}`).join('\n');
  const groups = Object.entries(GROUPS).map(([n, g]) => `  ${pad(n, 11)} ${g.short}`).join('\n');
  const rootOnlyUsage = { ...rootSpec, flags: rootSpec.flags };
  const opts = helpText(rootOnlyUsage, PROG).split('\nOptions:\n')[1] ?? '';
  return (
    `Usage:  ${PROG} [OPTIONS] COMMAND\n\n${rootSpec.short}\n\nManagement Commands:\n${groups}\n\nCommands:\n${cmds}\n\n` +
    `Global Options:\n${opts}\nRun '${PROG} COMMAND --help' for more information on a command.\n`
  );
}

function groupHelp(name: string): string {
  const g = GROUPS[name];
  const lines = Object.entries(g.subs)
    .map(([n, s]) => `  ${pad(n, 11)} ${s.entry.short}`)
    .join('\n');
  return `Usage:  ${PROG} ${name} COMMAND\n\n${g.short}\n\nCommands:\n${lines}\n\nRun '${PROG} ${name} COMMAND --help' for more information on a command.\n`;
}

function writeErr(io: IO, msg: string): void {
  if (msg) io.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
}

/** Runs the CLI with argv (without node and script) and resolves to the exit status. */
export async function runCli(argv: string[], io: IO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof StatusError) {
      writeErr(io, e.message);
      return e.status;
    }
    const err = e as NodeJS.ErrnoException;
    writeErr(io, err?.message ?? String(e));
    return 1;
  }
}

async function dispatch(argv: string[], io: IO): Promise<number> {
  const root = parseArgs(rootSpec, PROG, argv);
  if (root.flags.bool('version')) {
    io.stdout.write(`berth version ${BERTH_VERSION}\n`);
    return 0;
  }
  const hosts = root.flags.list('host');
  if (hosts.length > 1) throw new StatusError('Specify only one -H', 1);
  let [name, ...rest] = root.args;
  if (root.help || name === undefined) {
    io.stdout.write(rootHelp());
    return 0;
  }
  if (name === 'help') {
    if (rest.length === 0) {
      io.stdout.write(rootHelp());
      return 0;
    }
    return dispatch([...rest, '--help'], io);
  }
  let path = `${PROG} ${name}`;
  let entry: Entry | undefined = TOP[name];
  let useName = name;
  if (GROUPS[name]) {
    const g = GROUPS[name];
    // compose's global flags may come before its subcommand (`compose -f x.yml config`)
    if (name === 'compose') rest = (await import('./commands/compose_flags.js')).hoistComposeFlags(rest);
    const sub = rest[0];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(groupHelp(name));
      return 0;
    }
    const found = Object.entries(g.subs).find(([n, s]) => n === sub || s.names.includes(sub));
    if (!found || sub.startsWith('-')) {
      const what = sub.startsWith('-') ? undefined : sub;
      if (!what) {
        throw new StatusError(`unknown flag: ${sub}\n\nUsage:  ${PROG} ${name} COMMAND\n\nRun '${PROG} ${name} --help' for more information`, 125);
      }
      throw new StatusError(
        `${PROG}: unknown command: ${PROG} ${name} ${sub}\n\nUsage:  ${PROG} ${name}\n\nRun '${PROG} ${name} --help' for more information`,
        1,
      );
    }
    entry = found[1].entry;
    useName = found[0];
    path = `${PROG} ${name} ${found[0]}`;
    rest = rest.slice(1);
  } else if (!entry) {
    throw new StatusError(`${PROG}: unknown command: ${PROG} ${name}\n\nRun '${PROG} --help' for more information`, 1);
  }
  const { command } = await entry.load();
  const base = command.spec;
  const spec: CommandSpec = {
    ...base,
    use: [useName, ...base.use.split(' ').slice(1)].join(' '),
  };
  const parsed = parseArgs(spec, path, rest);
  if (parsed.help) {
    io.stdout.write(helpText(spec, path));
    return 0;
  }
  const env = { ...io.env };
  if (root.flags.bool('debug')) env.BERTH_DEBUG = '1';
  const ctx: Ctx = {
    client: new ApiClient(resolveHost(hosts[0], io.env), io.env),
    stdout: io.stdout,
    stderr: io.stderr,
    // on first use: making process.stdin costs every command 2-3 ms, and most never read it
    get stdin() {
      return io.stdin;
    },
    env,
    path,
  };
  const status = await command.run(ctx, parsed.flags, parsed.args);
  return status ?? 0;
}
