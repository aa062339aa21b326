// Config validation and description, driven by each experiment's zod schema (the single source of
// defaults, types, ranges, enums and help). Errors name the field, the value and what is allowed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Experiment } from '../../core/experiment';

export interface FieldError {
  field: string;
  message: string;
}

export type FieldType = 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'array' | 'object';

export interface FieldInfo {
  name: string;
  type: FieldType;
  default: unknown;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  options?: string[];
  help: string;
}

export class ConfigError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
  }
}

type JsonSchemaProp = {
  type?: string | string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
};

/** One entry per top-level config field, for CLI help and the extension's forms. */
export function describeFields(schema: z.ZodObject<any>): FieldInfo[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchemaProp> };
  return Object.entries(js.properties ?? {}).map(([name, p]) => {
    const rawType = Array.isArray(p.type) ? p.type[0] : p.type;
    const type: FieldType = p.enum ? 'enum' : ((rawType ?? 'string') as FieldType);
    const info: FieldInfo = { name, type, default: p.default, help: p.description ?? '' };
    if (p.minimum !== undefined) info.min = p.minimum;
    if (p.exclusiveMinimum !== undefined) {
      info.min = p.exclusiveMinimum;
      info.exclusiveMin = true;
    }
    if (p.maximum !== undefined) info.max = p.maximum;
    if (p.exclusiveMaximum !== undefined) {
      info.max = p.exclusiveMaximum;
      info.exclusiveMax = true;
    }
    if (p.enum) info.options = p.enum.map(String);
    return info;
  });
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s && s.length > 60 ? s.slice(0, 57) + '...' : (s ?? String(v));
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let cur: any = raw;
  for (const k of path) cur = cur == null ? undefined : cur[k as any];
  return cur;
}

function issueToError(issue: z.core.$ZodIssue, raw: unknown, allowedKeys: string[]): FieldError[] {
  const field = issue.path.map(String).join('.') || '(config)';
  const got = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({
        field: [...issue.path.map(String), k].join('.'),
        message: `unknown key; allowed keys: ${allowedKeys.join(', ')}`,
      }));
    case 'too_big':
      return [{ field, message: `got ${show(got)}, expected a value ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}` }];
    case 'too_small':
      return [{ field, message: `got ${show(got)}, expected a value ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}` }];
    case 'invalid_value':
      return [{ field, message: `got ${show(got)}, expected one of: ${issue.values.map((v) => String(v)).join(', ')}` }];
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : issue.expected === 'number' ? 'a number' : `a ${issue.expected}`;
      return [{ field, message: `got ${show(got)}, expected ${expected}` }];
    }
    default:
      return [{ field, message: `got ${show(got)}: ${issue.message}` }];
  }
}

export function validateConfig(
  exp: Experiment,
  raw: unknown,
): { ok: true; config: Record<string, unknown> } | { ok: false; errors: FieldError[] } {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: '(config)', message: `expected a JSON object of settings, got ${show(raw)}` }] };
  }
  const r = exp.schema.safeParse(raw);
  if (r.success) return { ok: true, config: r.data as Record<string, unknown> };
  const keys = Object.keys(exp.schema.shape);
  return { ok: false, errors: r.error.issues.flatMap((i: z.core.$ZodIssue) => issueToError(i, raw, keys)) };
}

/** Parse and check, throwing ConfigError. */
export function parseConfig(exp: Experiment, raw: unknown): Record<string, unknown> {
  const r = validateConfig(exp, raw);
  if (!r.ok) throw new ConfigError(r.errors);
  return r.config;
}

/**
 * The run's task and parsed config, kept consistent: when the experiment's config has a `task` field,
 * the run's task (e.g. `--task lm`) is written into it, a config that names a different task is an
 * error, and a task given only in the config becomes the run's task. Otherwise the task must be one of
 * the experiment's tasks (default: the first).
 */
export function resolveTaskAndConfig(exp: Experiment, task: string | undefined, raw: unknown): { task: string; config: Record<string, unknown> } {
  const hasTaskField = 'task' in exp.schema.shape;
  if (task !== undefined && exp.tasks.length && !exp.tasks.includes(task)) {
    throw new ConfigError([{ field: 'task', message: `experiment '${exp.id}' has no task '${task}'; tasks: ${exp.tasks.join(', ')}` }]);
  }
  if (hasTaskField && raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const given = (raw as Record<string, unknown>).task;
    if (task !== undefined && given !== undefined && given !== task) {
      throw new ConfigError([{ field: 'task', message: `the run's task is '${task}' but the config says ${show(given)}; give one of them` }]);
    }
    if (task !== undefined) raw = { ...raw, task };
  } else if (hasTaskField && task !== undefined && (raw === undefined || raw === null)) {
    raw = { task };
  }
  const config = parseConfig(exp, raw);
  if (hasTaskField) return { task: String(config.task), config };
  return { task: task ?? exp.tasks[0] ?? 'default', config };
}

/** Read a JSON config file; errors name the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ field: '--config', message: `cannot read ${path}${code === 'ENOENT' ? ': no such file' : ` (${code})`}` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ field: '--config', message: `${path} is not valid JSON: ${(e as Error).message}` }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([{ field: '--config', message: `${path} must hold a JSON object of settings, got ${show(value)}` }]);
  }
  return value as Record<string, unknown>;
}

/**
 * Apply `key=value` overrides. The value is read as JSON when the field is not a string
 * (numbers, booleans, arrays), else taken verbatim; dotted keys set nested objects.
 */
export function applySets(exp: Experiment, base: Record<string, unknown>, sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  const fields = new Map(describeFields(exp.schema).map((f) => [f.name, f]));
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError([{ field: '--set', message: `got '${s}', expected key=value` }]);
    const key = s.slice(0, eq).trim();
    const text = s.slice(eq + 1);
    const top = key.split('.')[0];
    const f = fields.get(top);
    let value: unknown = text;
    if (!(f && (f.type === 'string' || f.type === 'enum') && top === key)) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text; // left as a string: validation reports the type mismatch with the field's name
      }
    }
    const parts = key.split('.');
    let cur: any = out;
    for (const p of parts.slice(0, -1)) {
      if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
      cur = cur[p];
    }
    cur[parts[parts.length - 1]] = value;
  }
  return out;
}
