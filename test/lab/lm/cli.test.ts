import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { lmCommand } from '../../../src/lab/lm/cli';
import { exportHfFolder, importHfFolder } from '../../../src/lab/lm/hf-folder';
import { llamaConfig } from '../../../src/lab/lm/llama/config';
import { initLlamaWeights } from '../../../src/lab/lm/llama/weights';

const root = mkdtempSync(join(tmpdir(), 'lm-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await lmCommand(argv, { log: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

test('help for every subcommand; usage errors exit 2 and name the flag', async () => {
  const main = await run('--help');
  assert.equal(main.code, 0);
  for (const sub of ['train-tokenizer', 'pretrain', 'sample', 'eval', 'export', 'import']) {
    assert.match(main.out, new RegExp(sub));
    const h = await run(sub, '--help');
    assert.equal(h.code, 0, sub);
    assert.match(h.out, /Usage: proxlab lm /);
  }
  assert.equal((await run()).code, 2);
  const unknown = await run('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown subcommand "frobnicate"/);
  const cases: [string[], RegExp][] = [
    [['train-tokenizer', '--out', root], /--corpus: required/],
    [['train-tokenizer', '--corpus', 'brown', '--out', root, '--vocab-size', 'many'], /--vocab-size: expected an integer, got "many"/],
    [['train-tokenizer', '--corpus', 'brown', '--out', root, '--vocab-size', '100'], /--vocab-size: expected 258\.\.65535, got 100/],
    [['train-tokenizer', '--corpus', '/no/such/file.txt', '--out', root], /--corpus: "\/no\/such\/file\.txt" is neither brown, code nor an existing file/],
    [['sample', '--prompt', 'x', '--top-p', '0'], /--top-p: expected a number in \(0, 1\], got 0/],
    [['sample', '--prompt', 'x', '--temperature', '-1'], /--temperature: expected a number >= 0, got -1/],
    [['sample'], /--prompt: required/],
    [['sample', '--prompt', 'x', '--model', join(root, 'missing-model')], /--model: model .*not a bundled model/],
    [['sample', '--bogus', '1'], /--bogus: unknown flag/],
    [['eval', '--corpus', 'brown', '--split', 'dev'], /--split: expected one of train, validation, test, got "dev"/],
    [['pretrain', '--recipe', 'prox-huge'], /--recipe: unknown model "prox-huge"/],
    [['export', '--model', root], /--out: required/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')} -> ${r.code} ${r.err}`);
    assert.match(r.err, re, argv.join(' '));
  }
});

test('train-tokenizer, then sample / eval / export / import on a small model folder', async () => {
  const text = join(root, 'corpus.txt');
  writeFileSync(text, 'the cat sat on the mat.\nthe dog sat on the log.\n'.repeat(50));
  const tokDir = join(root, 'tok');
  const t = await run('train-tokenizer', '--corpus', text, '--out', tokDir, '--vocab-size', '300');
  assert.equal(t.code, 0, t.err);
  assert.ok(existsSync(join(tokDir, 'tokenizer.json')) && existsSync(join(tokDir, 'tokenizer_config.json')));

  const config = llamaConfig({ vocabSize: 300, hiddenSize: 16, intermediateSize: 32, layers: 1, heads: 2, kvHeads: 2, maxPositions: 64, eosTokenId: 298, bosTokenId: 298, padTokenId: 299 });
  const model = join(root, 'model');
  exportHfFolder(model, { config, weights: initLlamaWeights(config, new Rng(0), 0.2), tokenizerDir: tokDir });

  const s = await run('sample', '--model', model, '--prompt', 'the cat', '--prompt', 'a dog', '--n', '2', '--max-tokens', '5', '--seed', '3', '--json', '--stop', '.');
  assert.equal(s.code, 0, s.err);
  const rows = s.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.ok(r.tokens.length >= 1 && r.tokens.length <= 5);
    assert.equal(r.logprobs.length, r.tokens.length);
  }
  const again = await run('sample', '--model', model, '--prompt', 'the cat', '--prompt', 'a dog', '--n', '2', '--max-tokens', '5', '--seed', '3', '--json', '--stop', '.');
  assert.equal(again.out, s.out);
  const badStop = await run('sample', '--model', model, '--prompt', 'x', '--stop', 'the cat sat');
  assert.equal(badStop.code, 2);
  assert.match(badStop.err, /--stop: "the cat sat" is \d+ tokens, expected exactly one/);

  const e = await run('eval', '--model', model, '--text', text, '--json');
  assert.equal(e.code, 0, e.err);
  const ppl = JSON.parse(e.out);
  assert.ok(ppl.perTokenPerplexity > 1 && ppl.perTokenPerplexity < 1000, JSON.stringify(ppl));

  const exported = join(root, 'exported');
  assert.equal((await run('export', '--model', model, '--out', exported)).code, 0);
  const imported = join(root, 'imported');
  const i = await run('import', '--model', exported, '--out', imported);
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, /imported \d+ parameters/);
  const a = importHfFolder(model).weights;
  const b = importHfFolder(imported).weights;
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, k);
  assert.deepEqual(JSON.parse(readFileSync(join(imported, 'config.json'), 'utf8')).num_hidden_layers, 1);

  // Continue training the small model on the text file, through the core's training step.
  const tuned = join(root, 'tuned');
  const pt = await run('pretrain', '--model', model, '--corpus', text, '--steps', '4', '--seq-len', '16', '--batch-size', '2', '--lr', '0.01', '--out', tuned);
  assert.equal(pt.code, 0, pt.err);
  assert.match(pt.out, /wrote .*tuned \(\d+ parameters, validation loss [\d.]+\)/);
  const before = importHfFolder(model).weights.get('model.layers.0.mlp.up_proj.weight')!;
  const after = importHfFolder(tuned).weights.get('model.layers.0.mlp.up_proj.weight')!;
  assert.notDeepEqual(after, before);
  const badSteps = await run('pretrain', '--model', model, '--corpus', text, '--steps', '0', '--out', tuned);
  assert.equal(badSteps.code, 2);
  assert.match(badSteps.err, /--steps: expected an integer >= 1, got 0/);

  const broken = await run('sample', '--model', tokDir, '--prompt', 'x');
  assert.equal(broken.code, 1);
  assert.match(broken.err, /tok: no onnx\/model\.onnx; convert it first with: proxlab lm import/);
});
