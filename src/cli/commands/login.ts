// berth login: checks credentials through the daemon (POST /auth) and stores them as docker does.
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { readAll } from '../client.js';
import { configFile, readConfig, writeConfig } from '../dockerconfig.js';
import { configKeyFor, serverHost } from '../../common/registry-auth.js';
import { helperFor, helperStore } from '../credhelpers.js';
import { promptLine } from '../prompt.js';
import { credentialsFor } from '../dockerconfig.js';

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
    let username = flags.string('username').trim();
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
    const server = args[0] ? serverHost(args[0]) : 'docker.io';
    const key = configKeyFor(server);
    if (!username || !password) {
      if (!ctx.stdin.isTTY) throw new StatusError('Error: Cannot perform an interactive login from a non TTY device', 1);
      // As docker: the stored username is offered, Enter keeps it; the password is not echoed.
      const known = storedUsername(ctx.env, server);
      if (!username) {
        const typed = (await promptLine(ctx, known ? `Username (${known}): ` : 'Username: ', { echo: true })).trim();
        username = typed || known || '';
        if (!username) throw new StatusError('Error: Non-null Username Required', 1);
      }
      if (!password) {
        password = await promptLine(ctx, 'Password: ', { echo: false });
        if (!password) throw new StatusError('Error: Non-null Password Required', 1);
      }
    }
    await ctx.client.post('/auth', undefined, { username, password, serveraddress: key });
    const cfg = readConfig(ctx.env);
    const helper = helperFor(cfg, key);
    if (helper) {
      // With a helper the file keeps only an empty entry, as docker writes it.
      helperStore(helper, key, username, password, ctx.env);
      cfg.auths = { ...(cfg.auths ?? {}), [key]: {} };
      writeConfig(ctx.env, cfg);
      ctx.stdout.write('Login Succeeded\n');
      return 0;
    }
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

function storedUsername(env: NodeJS.ProcessEnv, key: string): string | undefined {
  try {
    return credentialsFor(env, key)?.username || undefined;
  } catch {
    // A broken helper only costs the suggestion; the login itself reports it.
    return undefined;
  }
}
