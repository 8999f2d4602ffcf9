// The shape every berth command file exports, and the context it runs in.
import type { Readable, Writable } from 'node:stream';
import type { ApiClient } from './client.js';
import type { CommandSpec, ParsedFlags } from './flags.js';

export interface Ctx {
  client: ApiClient;
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** command path used in messages, e.g. 'berth container run' */
  path: string;
}

export interface Command {
  spec: CommandSpec;
  /** resolves to the exit status (0 when undefined) */
  run(ctx: Ctx, flags: ParsedFlags, args: string[]): Promise<number | void>;
}
