// berth swarm unlock-key
import type { Command, Ctx } from '../command.js';
import { StatusError } from '../flags.js';

/** docker's printUnlockCommand: how to unlock a restarted manager, with the key. */
export function printUnlockCommand(ctx: Ctx, key: string): void {
  if (!key) return;
  ctx.stdout.write(
    `To unlock a swarm manager after it restarts, run the \`berth swarm unlock\`\ncommand and provide the following key:\n\n    ${key}\n\n` +
      'Remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n',
  );
}

export const command: Command = {
  spec: {
    use: 'unlock-key [OPTIONS]',
    short: 'Manage the unlock key',
    aliases: ['berth swarm unlock-key'],
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display token' },
      { name: 'rotate', type: 'bool', usage: 'Rotate unlock key' },
    ],
    args: { kind: 'exact', n: 0 },
  },
  async run(ctx, flags) {
    if (flags.bool('rotate')) {
      const swarm = await ctx.client.get('/swarm');
      if (!swarm.Spec?.EncryptionConfig?.AutoLockManagers) throw new StatusError('cannot rotate because autolock is not turned on', 1);
      await ctx.client.post('/swarm/update', { version: swarm.Version.Index, rotateManagerUnlockKey: true }, swarm.Spec);
      if (!flags.bool('quiet')) ctx.stdout.write('Successfully rotated manager unlock key.\n\n');
    }
    const { UnlockKey: key } = await ctx.client.get('/swarm/unlockkey');
    if (!key) throw new StatusError('no unlock key is set', 1);
    if (flags.bool('quiet')) ctx.stdout.write(key + '\n');
    else printUnlockCommand(ctx, key);
    return 0;
  },
};
