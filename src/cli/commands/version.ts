// berth version: docker's Client/Server layout, or a Go template over {Client, Server}.
import { arch as osArch, platform as osPlatform } from 'node:os';
import type { Command, Ctx } from '../command.js';
import { FORMAT_USAGE_JSON } from '../batch.js';
import { CLIENT_API_VERSION } from '../client.js';
import { StatusError } from '../flags.js';
import { renderTemplate } from '../../common/gotemplate/index.js';
import { BERTH_VERSION } from '../meta.js';

export function goArch(a: string = osArch()): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[a] ?? a;
}

function row(indent: string, key: string, value: unknown, col: number): string {
  const head = `${indent}${key}:`;
  return head + ' '.repeat(Math.max(1, col - head.length)) + String(value ?? '') + '\n';
}

export function renderVersion(client: Record<string, any>, server: Record<string, any> | undefined): string {
  let out = 'Client:\n';
  out += row(' ', 'Version', client.Version, 20);
  out += row(' ', 'API version', client.APIVersion + (client.DefaultAPIVersion && client.DefaultAPIVersion !== client.APIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''), 20);
  out += row(' ', 'Node version', client.NodeVersion, 20);
  out += row(' ', 'OS/Arch', `${client.Os}/${client.Arch}`, 20);
  out += row(' ', 'Context', client.Context, 20);
  if (!server) return out;
  out += `\nServer:${server.Platform?.Name ? ' ' + server.Platform.Name : ''}\n`;
  const components: Array<Record<string, any>> = server.Components?.length
    ? server.Components
    : [{ Name: 'Engine', Version: server.Version }];
  for (const c of components) {
    out += ` ${c.Name}:\n`;
    if (c.Name === 'Engine') {
      out += row('  ', 'Version', server.Version, 20);
      out += row('  ', 'API version', `${server.ApiVersion} (minimum version ${server.MinAPIVersion})`, 20);
      if (server.GoVersion) out += row('  ', 'Go version', server.GoVersion, 20);
      if (server.GitCommit) out += row('  ', 'Git commit', server.GitCommit, 20);
      if (server.BuildTime) out += row('  ', 'Built', server.BuildTime, 20);
      out += row('  ', 'OS/Arch', `${server.Os}/${server.Arch}`, 20);
      out += row('  ', 'Experimental', server.Experimental ?? false, 20);
    } else {
      out += row('  ', 'Version', c.Version, 20);
      for (const k of Object.keys(c.Details ?? {}).sort()) out += row('  ', k, c.Details[k], 20);
    }
  }
  return out;
}

async function clientInfo(ctx: Ctx): Promise<Record<string, any>> {
  return {
    Platform: { Name: '' },
    Version: BERTH_VERSION,
    APIVersion: CLIENT_API_VERSION,
    DefaultAPIVersion: CLIENT_API_VERSION,
    NodeVersion: process.version,
    Os: osPlatform(),
    Arch: goArch(),
    Context: 'default',
  };
}

export const command: Command = {
  spec: {
    use: 'version [OPTIONS]',
    short: 'Show the berth version information',
    flags: [{ name: 'format', short: 'f', type: 'string', usage: FORMAT_USAGE_JSON }],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const client = await clientInfo(ctx);
    let server: Record<string, any> | undefined;
    let err: Error | undefined;
    try {
      client.APIVersion = await ctx.client.apiVersion();
      server = await ctx.client.get('/version');
    } catch (e) {
      err = e as Error;
    }
    const format = flags.string('format');
    if (format) {
      const data = { Client: client, Server: server ?? null };
      let text: string;
      try {
        text = format === 'json' ? JSON.stringify(data) : renderTemplate(format, data);
      } catch (e) {
        throw new StatusError(`template: ${(e as Error).message}`, 1);
      }
      ctx.stdout.write(text + '\n');
    } else {
      ctx.stdout.write(renderVersion(client, server));
    }
    if (err) throw err;
    return 0;
  },
};
