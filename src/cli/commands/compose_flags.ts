// The flags every `berth compose` subcommand accepts (docker compose's persistent flags), and
// the move of those written before the subcommand (`compose -f x config`) to after it, so one
// parse of the subcommand's argv sees them all.
import type { FlagSpec, ParsedFlags } from '../flags.js';
import type { LoadOptions } from '../../compose/index.js';

export const COMPOSE_GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'stringArray', usage: 'Compose configuration files' },
  { name: 'project-name', short: 'p', type: 'string', usage: 'Project name' },
  { name: 'project-directory', type: 'string', usage: 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)' },
  { name: 'env-file', type: 'stringArray', usage: 'Specify an alternate environment file' },
  { name: 'profile', type: 'stringArray', usage: 'Specify a profile to enable' },
];

const WITH_VALUE = new Set(COMPOSE_GLOBAL_FLAGS.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]));

const LONG_NAME = new Map(COMPOSE_GLOBAL_FLAGS.filter((f) => f.short).map((f) => [`-${f.short}`, `--${f.name}`]));

/** the global flags for a subcommand that uses some of their short letters itself (logs -f, run -p) */
export function composeGlobalsExcept(...shorts: string[]): FlagSpec[] {
  return COMPOSE_GLOBAL_FLAGS.map((f) => (f.short && shorts.includes(f.short) ? { ...f, short: undefined } : f));
}

/** `[-f a.yml, -p x, config, --services]` → `[config, -f a.yml, -p x, --services]` */
export function hoistComposeFlags(argv: string[]): string[] {
  const lead: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '-' && argv[i] !== '--') {
    const a = argv[i];
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    // written in long form after the subcommand, where a short letter may mean something else
    // (`compose -f x.yml logs -f`: the second -f is --follow)
    const long = LONG_NAME.get(name.startsWith('--') ? name : name.slice(0, 2));
    if (long && !name.startsWith('--')) {
      if (a.length > 2 && !a.includes('=')) lead.push(`${long}=${a.slice(2)}`);
      else if (a.includes('=')) lead.push(`${long}=${a.slice(a.indexOf('=') + 1)}`);
      else if (i + 1 < argv.length) lead.push(`${long}=${argv[++i]}`);
      else lead.push(a);
      i++;
      continue;
    }
    lead.push(a);
    // `-fx.yml` and `--file=x.yml` carry their value; `-f x.yml` takes the next word
    if (WITH_VALUE.has(name) && !a.includes('=') && i + 1 < argv.length) lead.push(argv[++i]);
    i++;
  }
  if (i >= argv.length) return argv;
  return [argv[i], ...lead, ...argv.slice(i + 1)];
}

export function composeLoadOptions(flags: ParsedFlags, env: NodeJS.ProcessEnv): LoadOptions {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return {
    files: flags.list('file'),
    projectName: flags.string('project-name') || undefined,
    workingDir: flags.string('project-directory') || undefined,
    envFiles: flags.list('env-file'),
    profiles: flags.list('profile').flatMap((p) => p.split(',')).filter(Boolean),
    env: clean,
  };
}
