// berth logout: drops the stored credentials of a registry from the docker config file.
import type { Command } from '../command.js';
import { readConfig, writeConfig } from '../dockerconfig.js';
import { configKeyFor, serverHost } from '../../common/registry-auth.js';
import { helperErase, helperFor } from '../credhelpers.js';

export const command: Command = {
  spec: {
    use: 'logout [SERVER]',
    short: 'Log out from a registry',
    aliases: ['berth logout'],
    flags: [],
    args: { kind: 'max', n: 1 },
  },
  async run(ctx, _flags, args) {
    const key = configKeyFor(args[0] ? serverHost(args[0]) : 'docker.io');
    ctx.stdout.write(`Removing login credentials for ${key}\n`);
    const cfg = readConfig(ctx.env);
    const auths: Record<string, unknown> = cfg.auths ?? {};
    let hit = false;
    for (const k of [key, `https://${key}`, `http://${key}`]) {
      if (k in auths) {
        delete auths[k];
        hit = true;
      }
    }
    if (hit) writeConfig(ctx.env, { ...cfg, auths });
    const helper = helperFor(cfg, key);
    if (helper) helperErase(helper, key, ctx.env);
    return 0;
  },
};
