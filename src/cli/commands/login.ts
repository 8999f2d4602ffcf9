// berth login: checks credentials through the daemon (POST /auth) and stores them as docker does.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { readAll } from '../client.js';
import { configFile, readConfig, writeConfig } from '../dockerconfig.js';
import { configKeyFor, serverHost } from '../../common/registry-auth.js';

export const command: Command = {
  spec: {
    use: 'login [OPTIONS] [SERVER]',
    short: 'Authenticate to a registry',
    aliases: ['berth login'],
    flags: [
      { name: 'password', short: 'p', type: 'string', usage: 'Password or Personal Access Token (PAT)' },
      { name: 'password-stdin', type: 'bool', usage: 'Take the Password or Personal Access Token (PAT) from stdin' },
      { name: 'username', short: 'u', type: 'string', usage: 'Username' },
    ],
    args: { kind: 'max', n: 1 },
  },
  async run(ctx, flags, args) {
    const username = flags.string('username').trim();
    let password = flags.string('password');
    const fromStdin = flags.bool('password-stdin');
    if (password) {
      ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (fromStdin) throw new StatusError('--password and --password-stdin are mutually exclusive', 1);
    }
    if (fromStdin) {
      if (!username) throw new StatusError('Must provide --username with --password-stdin', 1);
      password = (await readAll(ctx.stdin)).toString('utf8').replace(/\r?\n$/, '').replace(/\r$/, '');
    }
    if (!username || !password) {
      // Prompts need a terminal; berth does not prompt yet.
      throw new StatusError('Error: Cannot perform an interactive login from a non TTY device', 1);
    }
    const server = args[0] ? serverHost(args[0]) : 'docker.io';
    const key = configKeyFor(server);
    await ctx.client.post('/auth', undefined, { username, password, serveraddress: key });
    const cfg = readConfig(ctx.env);
    const auth = Buffer.from(`${username}:${password}`).toString('base64');
    const changed = cfg.auths?.[key]?.auth !== auth;
    cfg.auths = { ...(cfg.auths ?? {}), [key]: { auth } };
    writeConfig(ctx.env, cfg);
    if (changed) {
      ctx.stderr.write(
        `\nWARNING! Your credentials are stored unencrypted in '${configFile(ctx.env)}'.\n` +
          'Configure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n',
      );
    }
    ctx.stdout.write('Login Succeeded\n');
    return 0;
  },
};
