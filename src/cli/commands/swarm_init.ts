// berth swarm init
import { printUnlockCommand } from './swarm_unlock_key.js';
import type { Command } from '../command.js';
import { StatusError } from '../flags.js';
import { parseGoDuration } from '../../common/units.js';
import { printJoinCommand } from './swarm_join_token.js';

export const command: Command = {
  spec: {
    use: 'init [OPTIONS]',
    short: 'Initialize a swarm',
    aliases: ['berth swarm init'],
    flags: [
      { name: 'advertise-addr', type: 'string', usage: 'Advertised address (format: "<ip|interface>[:port]")' },
      { name: 'autolock', type: 'bool', usage: 'Enable manager autolocking (requiring an unlock key to start a stopped manager)' },
      { name: 'availability', type: 'string', usage: 'Availability of the node ("active", "pause", "drain")', def: 'active' },
      { name: 'cert-expiry', type: 'duration', usage: 'Validity period for node certificates (ns|us|ms|s|m|h)', def: '2160h0m0s' },
      { name: 'data-path-addr', type: 'string', usage: 'Address or interface to use for data path traffic (format: "<ip|interface>")' },
      { name: 'data-path-port', type: 'uint32', usage: 'Port number to use for data path traffic (1024 - 49151). If no value is set or is set to 0, the default port (4789) is used.' },
      { name: 'default-addr-pool', type: 'ipNetSlice', usage: 'default address pool in CIDR format', def: '[]' },
      { name: 'default-addr-pool-mask-length', type: 'uint32', usage: 'default address pool subnet mask length', def: '24' },
      { name: 'dispatcher-heartbeat', type: 'duration', usage: 'Dispatcher heartbeat period (ns|us|ms|s|m|h)', def: '5s' },
      { name: 'force-new-cluster', type: 'bool', usage: 'Force create a new cluster from current state' },
      { name: 'listen-addr', type: 'node-addr', usage: 'Listen address (format: "<ip|interface>[:port]")', def: '0.0.0.0:2377' },
      { name: 'max-snapshots', type: 'uint64', usage: 'Number of additional Raft snapshots to retain' },
      { name: 'snapshot-interval', type: 'uint64', usage: 'Number of log entries between Raft snapshots', def: '10000' },
      { name: 'task-history-limit', type: 'int64', usage: 'Task history retention limit', def: '5' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const availability = flags.string('availability').toLowerCase();
    if (!['active', 'pause', 'drain'].includes(availability)) throw new StatusError(`invalid availability "${flags.string('availability')}", only active, pause and drain are supported`, 1);
    const dur = (name: string): number => {
      try {
        return parseGoDuration(flags.string(name)) * 1e6;
      } catch (e) {
        throw new StatusError(`invalid argument "${flags.string(name)}" for "--${name}" flag: ${(e as Error).message}`, 125);
      }
    };
    const req = {
      ListenAddr: flags.string('listen-addr'),
      AdvertiseAddr: flags.string('advertise-addr'),
      DataPathAddr: flags.string('data-path-addr'),
      DataPathPort: flags.int('data-path-port'),
      ForceNewCluster: flags.bool('force-new-cluster'),
      Availability: availability,
      DefaultAddrPool: flags.list('default-addr-pool'),
      SubnetSize: flags.int('default-addr-pool-mask-length'),
      Spec: {
        Orchestration: { TaskHistoryRetentionLimit: flags.int('task-history-limit') },
        Dispatcher: { HeartbeatPeriod: dur('dispatcher-heartbeat') },
        CAConfig: { NodeCertExpiry: dur('cert-expiry') },
        Raft: { SnapshotInterval: flags.int('snapshot-interval'), KeepOldSnapshots: flags.int('max-snapshots') },
        EncryptionConfig: { AutoLockManagers: flags.bool('autolock') },
      },
    };
    const nodeId: string = await ctx.client.post('/swarm/init', undefined, req);
    ctx.stdout.write(`Swarm initialized: current node (${nodeId}) is now a manager.\n\n`);
    await printJoinCommand(ctx, nodeId, true, false);
    ctx.stdout.write(`To add a manager to this swarm, run 'berth swarm join-token manager' and follow the instructions.\n\n`);
    if (flags.bool('autolock')) printUnlockCommand(ctx, (await ctx.client.get('/swarm/unlockkey')).UnlockKey);
    return 0;
  },
};
