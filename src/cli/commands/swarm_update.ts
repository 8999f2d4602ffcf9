// berth swarm update
import { printUnlockCommand } from './swarm_unlock_key.js';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { parseGoDuration } from '../../common/units.js';

export const command: Command = {
  spec: {
    use: 'update [OPTIONS]',
    short: 'Update the swarm',
    aliases: ['berth swarm update'],
    flags: [
      { name: 'autolock', type: 'bool', usage: 'Change manager autolocking setting (true|false)' },
      { name: 'cert-expiry', type: 'duration', usage: 'Validity period for node certificates (ns|us|ms|s|m|h)', def: '2160h0m0s' },
      { name: 'dispatcher-heartbeat', type: 'duration', usage: 'Dispatcher heartbeat period (ns|us|ms|s|m|h)', def: '5s' },
      { name: 'max-snapshots', type: 'uint64', usage: 'Number of additional Raft snapshots to retain' },
      { name: 'snapshot-interval', type: 'uint64', usage: 'Number of log entries between Raft snapshots', def: '10000' },
      { name: 'task-history-limit', type: 'int64', usage: 'Task history retention limit', def: '5' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const swarm = await ctx.client.get('/swarm');
    const spec = swarm.Spec;
    const wasLocked = !!spec.EncryptionConfig?.AutoLockManagers;
    const dur = (name: string): number => {
      try {
        return parseGoDuration(flags.string(name)) * 1e6;
      } catch (e) {
        throw new StatusError(`invalid argument "${flags.string(name)}" for "--${name}" flag: ${(e as Error).message}`, 125);
      }
    };
    if (flags.changed('task-history-limit')) spec.Orchestration.TaskHistoryRetentionLimit = flags.int('task-history-limit');
    if (flags.changed('dispatcher-heartbeat')) spec.Dispatcher.HeartbeatPeriod = dur('dispatcher-heartbeat');
    if (flags.changed('cert-expiry')) spec.CAConfig.NodeCertExpiry = dur('cert-expiry');
    if (flags.changed('snapshot-interval')) spec.Raft.SnapshotInterval = flags.int('snapshot-interval');
    if (flags.changed('max-snapshots')) spec.Raft.KeepOldSnapshots = flags.int('max-snapshots');
    if (flags.changed('autolock')) spec.EncryptionConfig.AutoLockManagers = flags.bool('autolock');
    await ctx.client.post('/swarm/update', { version: swarm.Version.Index }, spec);
    ctx.stdout.write('Swarm updated.\n');
    // as docker: the key is shown when autolock was just turned on
    if (flags.bool('autolock') && !wasLocked) printUnlockCommand(ctx, (await ctx.client.get('/swarm/unlockkey')).UnlockKey);
    return 0;
  },
};
