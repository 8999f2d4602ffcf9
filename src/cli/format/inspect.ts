// `docker inspect` output: an indented JSON array, or a template per object.

import { goJSON, parseTemplate } from '../../common/gotemplate/index.js';
import { FormatError, finalFormat } from './context.js';

/**
 * Without a format: json.Indent of the raw API objects with four spaces
 * (keeping the daemon's HTML-safe escaping). With one: the template per
 * object, each followed by a newline.
 */
export function formatInspect(objs: unknown[], format?: string): string {
  if (format === undefined || format === '') {
    if (objs.length === 0) return '[]\n';
    return goJSON(objs, { indent: '    ', escapeHTML: true }) + '\n';
  }
  const text = format === 'json' ? '{{json .}}' : format;
  let tmpl;
  try {
    tmpl = parseTemplate(text);
  } catch (e) {
    throw new FormatError(`template parsing error: ${e instanceof Error ? e.message : String(e)}`);
  }
  let out = '';
  for (const o of objs) {
    try {
      out += tmpl.execute(o) + '\n';
    } catch (e) {
      throw new FormatError(`template parsing error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

export { finalFormat };
