// berth compose build: build (or rebuild) the images of services with a `build:` section.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { guard, loadProject, progress, selectServices, service } from './compose_common.js';

export const command: Command = {
  spec: {
    use: 'build [OPTIONS] [SERVICE...]',
    short: 'Build or rebuild services',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'build-arg', type: 'stringArray', usage: 'Set build-time variables for services' },
      { name: 'no-cache', type: 'bool', usage: 'Do not use cache when building the image' },
      { name: 'pull', type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
      { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print anything to STDOUT" },
      { name: 'with-dependencies', type: 'bool', usage: 'Also build dependencies (transitively)' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProject(ctx, flags, args);
    const services = (await guard(async () => selectServices(p, args, flags.bool('with-dependencies')))).filter((s) => p.services[s].build);
    const buildArgs: Record<string, string> = {};
    for (const a of flags.list('build-arg')) {
      const i = a.indexOf('=');
      if (i < 0) {
        const v = ctx.env[a];
        if (v !== undefined) buildArgs[a] = v;
      } else buildArgs[a.slice(0, i)] = a.slice(i + 1);
    }
    if (args.length && services.length === 0) throw new StatusError(`no service selected to build`, 1);
    const prog = progress(ctx, flags.bool('quiet'));
    const svc = service(ctx, p, prog);
    for (const s of services) {
      const b = p.services[s].build as Record<string, unknown>;
      if (Object.keys(buildArgs).length) b.args = { ...(b.args as Record<string, string> | undefined), ...buildArgs };
      await guard(() => svc.build(s, { build: 'always', noCache: flags.bool('no-cache'), buildPull: flags.bool('pull'), quietBuild: flags.bool('quiet') }));
    }
    prog.stop();
    return 0;
  },
};
