// Instruction flags (`--from=x`, `--link`, repeated `--mount=`) with BuildKit's validation and
// error texts. Flags are declared by each instruction, then parse() checks what was written.
import { InstructionError } from './errors.js';
import { withSuggestion } from './suggest.js';

type FlagType = 'bool' | 'string' | 'strings';

export interface Flag {
  readonly name: string;
  readonly type: FlagType;
  value: string;
  values: string[];
  used: boolean;
}

export class BFlags {
  private readonly flags = new Map<string, Flag>();

  constructor(readonly args: readonly string[]) {}

  private add(name: string, type: FlagType, value: string): Flag {
    const f: Flag = { name, type, value, values: [], used: false };
    this.flags.set(name, f);
    return f;
  }

  addBool(name: string, def = false): Flag {
    return this.add(name, 'bool', def ? 'true' : 'false');
  }

  addString(name: string, def = ''): Flag {
    return this.add(name, 'string', def);
  }

  addStrings(name: string): Flag {
    return this.add(name, 'strings', '');
  }

  /** names of the flags written on the instruction */
  used(): string[] {
    return [...this.flags.values()].filter((f) => f.used).map((f) => f.name);
  }

  parse(): void {
    for (const a of this.args) {
      // a bare -- ends the flags (POSIX utility syntax)
      if (a === '--') return;
      if (!a.startsWith('--')) throw new InstructionError(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const hasValue = eq >= 0;
      const flagName = hasValue ? a.slice(0, eq) : a;
      const value = hasValue ? a.slice(eq + 1) : '';
      const arg = flagName.slice(2);
      const flag = this.flags.get(arg);
      if (!flag) {
        throw new InstructionError(withSuggestion(`unknown flag: ${flagName}`, arg, [...this.flags.keys()], true));
      }
      if (flag.used && flag.type !== 'strings') throw new InstructionError(`duplicate flag specified: ${flagName}`);
      flag.used = true;
      switch (flag.type) {
        case 'bool': {
          if (hasValue && value === '') throw new InstructionError(`missing a value on flag: ${flagName}`);
          const lower = value.toLowerCase();
          if (lower === '' || lower === 'true') flag.value = 'true';
          else if (lower === 'false') flag.value = 'false';
          else throw new InstructionError(`expecting boolean value for flag ${flagName}, not: ${value}`);
          break;
        }
        case 'string':
          if (!hasValue) throw new InstructionError(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (!hasValue) throw new InstructionError(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }
}
