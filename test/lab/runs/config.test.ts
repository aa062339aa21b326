import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySets, ConfigError, describeFields, readConfigFile, resolveTaskAndConfig, validateConfig } from '../../../src/lab/runs/config';
import { getExperiment } from '../../../src/lab/runs/registry';

const cbo = getExperiment('cbo')!;

test('defaults fill every field; describeFields exposes types, ranges, enums and help', () => {
  const r = validateConfig(cbo, {});
  assert.ok(r.ok);
  if (r.ok) assert.equal(r.config.dim, 10);
  const fields = describeFields(cbo.schema);
  const dim = fields.find((f) => f.name === 'dim')!;
  assert.deepEqual([dim.type, dim.min, dim.max, dim.default], ['integer', 2, 100, 10]);
  assert.ok(dim.help.length > 5);
  const obj = fields.find((f) => f.name === 'objective')!;
  assert.deepEqual(obj.options, ['rastrigin', 'ackley']);
  assert.ok(fields.every((f) => f.help.length > 0), 'every field has help');
});

test('every error path names the field, the value and what is allowed', () => {
  const check = (raw: unknown, field: string, re: RegExp) => {
    const r = validateConfig(cbo, raw);
    assert.ok(!r.ok, `expected ${JSON.stringify(raw)} to fail`);
    if (!r.ok) {
      const e = r.errors.find((x) => x.field === field);
      assert.ok(e, `no error for ${field}: ${JSON.stringify(r.errors)}`);
      assert.match(e!.message, re);
    }
  };
  check({ bogus: 1 }, 'bogus', /unknown key; allowed keys: objective, dim/);
  check({ dim: 'ten' }, 'dim', /got "ten", expected a number/);
  check({ dim: 2.5 }, 'dim', /got 2\.5, expected an integer/);
  check({ dim: 1000 }, 'dim', /got 1000, expected a value <= 100/);
  check({ dim: 1 }, 'dim', /got 1, expected a value >= 2/);
  check({ dt: 0 }, 'dt', /got 0, expected a value > 0/);
  check({ objective: 'sphere' }, 'objective', /got "sphere", expected one of: rastrigin, ackley/);
  check({ initLow: 5, initHigh: 1 }, 'initLow', /initLow must be below initHigh/);
  const notObject = validateConfig(cbo, [1, 2]);
  assert.ok(!notObject.ok);
});

test('--set values are parsed by field type; malformed sets and files raise ConfigError naming the flag', () => {
  const c = applySets(cbo, {}, ['dim=20', 'objective=ackley', 'sigma=1e-1']);
  assert.deepEqual(c, { dim: 20, objective: 'ackley', sigma: 0.1 });
  assert.throws(() => applySets(cbo, {}, ['dim']), (e: unknown) => e instanceof ConfigError && /--set: got 'dim', expected key=value/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'bad.json'), '{ "dim": 3,, }');
  writeFileSync(join(dir, 'arr.json'), '[1]');
  writeFileSync(join(dir, 'ok.json'), '{ "dim": 3 }');
  assert.throws(() => readConfigFile(join(dir, 'bad.json')), /--config: .*bad\.json is not valid JSON/);
  assert.throws(() => readConfigFile(join(dir, 'arr.json')), /must hold a JSON object/);
  assert.throws(() => readConfigFile(join(dir, 'missing.json')), /cannot read .*missing\.json: no such file/);
  assert.deepEqual(readConfigFile(join(dir, 'ok.json')), { dim: 3 });
});

test('the run task and a config task field agree: --task fills the field, a mismatch or unknown task is a field error', () => {
  const nash = getExperiment('nash-mp')!;
  assert.deepEqual(resolveTaskAndConfig(nash, 'lm', {}).config.task, 'lm');
  assert.equal(resolveTaskAndConfig(nash, 'lm', undefined).task, 'lm');
  assert.equal(resolveTaskAndConfig(nash, undefined, { task: 'lm' }).task, 'lm', 'a task named only in the config becomes the run task');
  assert.equal(resolveTaskAndConfig(nash, undefined, {}).task, 'tabular');
  assert.throws(() => resolveTaskAndConfig(nash, 'lm', { task: 'tabular' }), (e: unknown) => e instanceof ConfigError && /task: the run's task is 'lm' but the config says "tabular"/.test(e.message));
  assert.throws(() => resolveTaskAndConfig(nash, 'chess', {}), (e: unknown) => e instanceof ConfigError && /task: experiment 'nash-mp' has no task 'chess'; tasks: tabular, lm/.test(e.message));
  const cbo = getExperiment('cbo')!;
  assert.equal(resolveTaskAndConfig(cbo, undefined, {}).task, cbo.tasks[0] ?? 'default');
  assert.equal('task' in resolveTaskAndConfig(cbo, undefined, {}).config, false, 'no task field is added where the schema has none');
});
