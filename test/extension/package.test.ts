// The .vsix contents (`vsce ls`, the file list `npm run package` packs): the bundles, the webview,
// the icon and the runtime packages the bundles load are in; sources, tests, onnxruntime-web and
// other platforms' native binaries are out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const vsce = join(root, 'node_modules/.bin/vsce');

test('vsix file list keeps only what the extension needs', { skip: existsSync(vsce) ? false : 'vsce not installed', timeout: 120_000 }, () => {
  if (!existsSync(join(root, 'dist/extension.js'))) spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root });
  const r = spawnSync(vsce, ['ls'], { cwd: root, encoding: 'utf8', input: '' });
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.split('\n').filter(Boolean);
  for (const f of ['package.json', 'dist/extension.js', 'dist/cli.js', 'dist/media/main.js', 'dist/media/main.css', 'media/icon.svg']) {
    assert.ok(files.includes(f), `${f} is packaged`);
  }
  assert.ok(files.some((f) => f.startsWith('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/')), 'the linux-x64 onnxruntime binary is packaged');
  assert.ok(files.some((f) => f.startsWith('node_modules/@huggingface/tokenizers/')));
  const forbidden = [/^src\//, /^test\//, /^bench\//, /^scripts\//, /\.map$/, /^node_modules\/onnxruntime-web\//, /napi-v6\/(darwin|win32)\//, /napi-v6\/linux\/arm64\//, /^node_modules\/zod\//, /^\.cache\//, /^media\/.*\.ts$/];
  for (const re of forbidden) {
    const hit = files.find((f) => re.test(f));
    assert.equal(hit, undefined, `${hit} must not be packaged (${re})`);
  }
  console.log(`vsix: ${files.length} files`);
});
