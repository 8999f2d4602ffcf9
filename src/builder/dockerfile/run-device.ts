// `RUN --device=` specs (CDI devices): `name[,required]` or `name=...,required=bool`.
import { InstructionError } from './errors.js';
import { parseBool, parseCsvRecord } from './run-mount.js';
import { withSuggestion } from './suggest.js';

export interface Device {
  name: string;
  required: boolean;
}

export function parseDevice(value: string): Device {
  const d: Device = { name: '', required: false };
  for (const field of parseCsvRecord(value, 'devices')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'required') {
        d.required = true;
        continue;
      }
      // the first bare field is the device name
      if (d.name === '') {
        d.name = field;
        continue;
      }
      throw new InstructionError(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'name':
        if (d.name !== '') throw new InstructionError(`device name already set to ${d.name}`);
        d.name = v;
        break;
      case 'required':
        d.required = parseBool(key, v);
        break;
      default:
        // CDI names may contain `=`: the first such field is the name
        if (d.name === '') {
          d.name = field;
          continue;
        }
        throw new InstructionError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
  return d;
}
