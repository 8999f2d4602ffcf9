// berth compose events: the engine's container events for the project, in compose's line
// format or (--json) one JSON object per event.
import type { Command } from '../command.js';
import { COMPOSE_GLOBAL_FLAGS } from './compose_flags.js';
import { loadProjectOrName } from './compose_common.js';
import { readJSONStream } from '../client.js';
import { LABEL } from '../../compose/engine/names.js';

function localTime(nano: bigint): string {
  const ms = Number(nano / 1_000_000n);
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const micro = Number((nano / 1000n) % 1_000_000n);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(micro, 6)}`;
}

export const command: Command = {
  spec: {
    use: 'events [OPTIONS] [SERVICE...]',
    short: 'Receive real time events from containers',
    flags: [
      ...COMPOSE_GLOBAL_FLAGS,
      { name: 'json', type: 'bool', usage: 'Output events as a stream of json objects' },
      { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
    ],
    args: { kind: 'any' },
  },
  async run(ctx, flags, args) {
    const p = await loadProjectOrName(ctx, flags);
    const res = await ctx.client.stream('GET', '/events', {
      query: {
        filters: JSON.stringify({ type: ['container'], label: [`${LABEL.project}=${p.name}`] }),
        since: flags.string('since') || undefined,
        until: flags.string('until') || undefined,
      },
    });
    await readJSONStream(res, (e) => {
      const attrs: Record<string, string> = { ...(e.Actor?.Attributes ?? {}) };
      const svc = attrs[LABEL.service] ?? '';
      if (args.length && !args.includes(svc)) return;
      const nano = e.timeNano !== undefined ? BigInt(e.timeNano) : BigInt(e.time ?? 0) * 1_000_000_000n;
      const action = String(e.Action ?? e.status ?? '');
      const id = String(e.Actor?.ID ?? e.id ?? '');
      // compose shows what the event is about, not its own bookkeeping labels
      for (const k of Object.keys(attrs)) if (k.startsWith('com.docker.compose.')) delete attrs[k];
      if (flags.bool('json')) {
        ctx.stdout.write(JSON.stringify({ action, attributes: attrs, id, service: svc, time: new Date(Number(nano / 1_000_000n)).toISOString(), type: 'container' }) + '\n');
      } else {
        const a = Object.keys(attrs).sort().map((k) => `${k}=${attrs[k]}`).join(', ');
        ctx.stdout.write(`${localTime(nano)} container ${action} ${id}${a ? ` (${a})` : ''}\n`);
      }
    });
    return 0;
  },
};
