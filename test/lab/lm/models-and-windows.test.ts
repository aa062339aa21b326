import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slidingWindows } from '../../../src/lab/lm/evaluate';
import { bundledModelDir, resolveLocalModel, resolveModel } from '../../../src/lab/lm/models';

test('sliding windows score every token after the first exactly once, with at least half a window of context', () => {
  for (const [n, w] of [
    [1, 8],
    [5, 8],
    [8, 8],
    [9, 8],
    [100, 8],
    [101, 16],
    [1000, 256],
  ]) {
    const plans = slidingWindows(n, w);
    const seen = new Array<number>(n).fill(0);
    for (const p of plans) {
      assert.ok(p.end - p.start <= w && p.start >= 0 && p.end <= n);
      for (let s = p.scoreFrom; s < p.end; s++) {
        seen[s]++;
        if (p.start > 0) assert.ok(s - p.start >= Math.floor(w / 2), `context ${s - p.start} < ${w / 2}`);
      }
    }
    assert.deepEqual(seen.slice(1), new Array(Math.max(0, n - 1)).fill(1), `n=${n} w=${w}`);
  }
});

test('model references: bundled names, folders, Hub ids (downloaded once, atomically), clear errors', async () => {
  assert.equal(resolveLocalModel('prox-text-small'), bundledModelDir('prox-text-small'));
  const cache = mkdtempSync(join(tmpdir(), 'hub-'));
  try {
    assert.equal(resolveLocalModel(cache), cache);
    assert.throws(() => resolveLocalModel('not a model'), /not a bundled model .*not an existing folder, not a Hub id/);
    assert.equal(resolveLocalModel('someone/tiny-llama', cache), null);
    const asked: string[] = [];
    const fakeFetch = (async (url: string) => {
      asked.push(url);
      if (url.endsWith('generation_config.json')) return new Response('missing', { status: 404 });
      return new Response(`contents of ${url.split('/').pop()}`, { status: 200 });
    }) as unknown as typeof fetch;
    const dir = await resolveModel('someone/tiny-llama', { hubCache: cache, fetchImpl: fakeFetch });
    assert.equal(dir, join(cache, 'someone--tiny-llama'));
    assert.equal(readFileSync(join(dir, 'model.safetensors'), 'utf8'), 'contents of model.safetensors');
    assert.ok(!existsSync(join(dir, 'generation_config.json')));
    assert.ok(asked.every((u) => u.startsWith('https://huggingface.co/someone/tiny-llama/resolve/main/')));
    // Second time: from the cache, no network.
    assert.equal(await resolveModel('someone/tiny-llama', { hubCache: cache, fetchImpl: (() => assert.fail('fetched again')) as unknown as typeof fetch }), dir);
    // A failed download leaves nothing half-written behind.
    const offline = (async () => {
      throw new Error('getaddrinfo ENOTFOUND huggingface.co');
    }) as unknown as typeof fetch;
    await assert.rejects(resolveModel('other/model', { hubCache: cache, fetchImpl: offline }), /cannot download .*ENOTFOUND.*offline, use a bundled model or a local folder/);
    assert.equal(resolveLocalModel('other/model', cache), null);
    const notFound = (async () => new Response('no', { status: 401 })) as unknown as typeof fetch;
    await assert.rejects(resolveModel('other/model', { hubCache: cache, fetchImpl: notFound }), /config\.json answered 401/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
