// docker's batch shape: every argument is processed, results printed as they come,
// errors printed together at the end, exit 1 when any failed.
import type { Ctx } from './command.js';
import { StatusError } from './flags.js';

export async function runBatch(
  ctx: Ctx,
  names: string[],
  fn: (name: string) => Promise<string | string[] | undefined>,
): Promise<number> {
  const errors: string[] = [];
  for (const name of names) {
    try {
      const out = await fn(name);
      const lines = out === undefined ? [] : Array.isArray(out) ? out : [out];
      for (const l of lines) ctx.stdout.write(l + '\n');
    } catch (e) {
      if (e instanceof StatusError && /^Cannot connect to the berth daemon/.test(e.message)) throw e;
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new StatusError(errors.join('\n'), 1);
  return 0;
}

/** `--filter key=value` list → the API's JSON filters argument */
export function buildFilters(list: string[]): string | undefined {
  if (!list.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) throw new StatusError('bad format of filter (expected name=value)', 125);
    const k = item.slice(0, i).trim().toLowerCase();
    const v = item.slice(i + 1).trim();
    (f[k] ??= {})[v] = true;
  }
  return JSON.stringify(f);
}

export const FORMAT_USAGE_TABLE =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const FORMAT_USAGE_JSON =
  "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export function enc(s: string): string {
  return encodeURIComponent(s);
}
