// The New Experiment form's logic, generated from the experiment's schema (describeFields):
// parsing and checking one field's text (inline validation while typing), and the labels of
// the form's rows. Pure, unit-tested; the quick-pick UI is in new-experiment.ts.
import type { FieldInfo } from '../lab/runs/config';
import { formatValue } from './format';

export type FieldParse = { ok: true; value: unknown } | { ok: false; message: string };

function rangeText(f: FieldInfo): string {
  const lo = f.min !== undefined ? `${f.exclusiveMin ? '>' : '≥'} ${f.min}` : '';
  const hi = f.max !== undefined ? `${f.exclusiveMax ? '<' : '≤'} ${f.max}` : '';
  return [lo, hi].filter(Boolean).join(' and ');
}

/** "integer ≥ 1 and ≤ 1000" / "one of a, b" / "true or false" */
export function expectedText(f: FieldInfo): string {
  switch (f.type) {
    case 'integer':
    case 'number': {
      const r = rangeText(f);
      return `${f.type === 'integer' ? 'an integer' : 'a number'}${r ? ' ' + r : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${(f.options ?? []).join(', ')}`;
    case 'array':
      return 'a JSON array';
    case 'object':
      return 'a JSON object';
    default:
      return 'text';
  }
}

export function parseFieldInput(f: FieldInfo, text: string): FieldParse {
  const t = text.trim();
  const fail = (why: string): FieldParse => ({ ok: false, message: `${f.name}: ${why}; expected ${expectedText(f)}` });
  switch (f.type) {
    case 'integer':
    case 'number': {
      if (!t) return fail('empty');
      const v = Number(t);
      if (!Number.isFinite(v)) return fail(`'${t}' is not a number`);
      if (f.type === 'integer' && !Number.isInteger(v)) return fail(`${t} is not an integer`);
      if (f.min !== undefined && (f.exclusiveMin ? v <= f.min : v < f.min)) return fail(`${t} is too small`);
      if (f.max !== undefined && (f.exclusiveMax ? v >= f.max : v > f.max)) return fail(`${t} is too large`);
      return { ok: true, value: v };
    }
    case 'boolean':
      if (t === 'true') return { ok: true, value: true };
      if (t === 'false') return { ok: true, value: false };
      return fail(`'${t}'`);
    case 'enum':
      if ((f.options ?? []).includes(t)) return { ok: true, value: t };
      return fail(`'${t}'`);
    case 'array':
    case 'object': {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        return fail('not valid JSON');
      }
      if (f.type === 'array' ? !Array.isArray(v) : typeof v !== 'object' || v === null || Array.isArray(v)) return fail('wrong JSON type');
      return { ok: true, value: v };
    }
    default:
      return { ok: true, value: text };
  }
}

export function valueText(v: unknown): string {
  return v === undefined ? '' : formatValue(v);
}

export interface FormRow {
  field: string;
  label: string;
  description: string;
  detail: string;
}

/** One row per field: "name = value", the expected type/range, and help or the field's error. */
export function formRows(fields: FieldInfo[], values: Record<string, unknown>, errors: Record<string, string>): FormRow[] {
  return fields.map((f) => {
    const v = values[f.name] ?? f.default;
    const changed = values[f.name] !== undefined && JSON.stringify(values[f.name]) !== JSON.stringify(f.default);
    const err = errors[f.name];
    return {
      field: f.name,
      label: `${err ? '$(error) ' : changed ? '$(edit) ' : ''}${f.name} = ${valueText(v)}`,
      description: expectedText(f) + (changed ? ` · default ${valueText(f.default)}` : ''),
      detail: err ? `⚠ ${err}` : f.help,
    };
  });
}
