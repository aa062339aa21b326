// The bundled extension (dist/extension.js as esbuild builds it) activated against a fake
// `vscode`: it registers exactly the commands, views and serializer that package.json declares,
// and activation loads nothing but `vscode` and Node built-ins (the lab, zod's schemas and
// onnxruntime load on first use).
import { moduleRequests } from './register-vscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { fakeContext, recorded, reset } from './mock-vscode';

const root = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

async function buildExtension(): Promise<string> {
  const ext = mkdtempSync(join(tmpdir(), 'proxlab-ext-'));
  mkdirSync(join(ext, 'dist'));
  copyFileSync(join(root, 'package.json'), join(ext, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(ext, 'node_modules'));
  await esbuild.build({
    entryPoints: [join(root, 'src/extension/extension.ts')],
    outfile: join(ext, 'dist/extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node', '@huggingface/transformers', '@huggingface/tokenizers', 'sharp', 'playwright-core'],
    logLevel: 'error',
  });
  return ext;
}

test('activation registers what package.json declares and loads no lab module', async () => {
  reset();
  const ext = await buildExtension();
  try {
    const before = moduleRequests.length;
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(ext, 'dist/extension.js'));
    const requireMs = performance.now() - t0;
    const context = fakeContext(ext, join(ext, 'storage'));
    const { timing } = mod.activate(context);
    const requests = moduleRequests.slice(before).filter((r) => !r.startsWith('.') && !r.startsWith('/'));
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const foreign = [...new Set(requests)].filter((r) => r !== 'vscode' && !builtins.has(r) && !r.includes('dist/extension.js'));
    assert.deepEqual(foreign, [], 'activation must not load packages (lab, onnxruntime, transformers)');
    console.log(`activation (fake vscode): require of the bundle ${requireMs.toFixed(1)} ms (our module code ${timing.moduleMs.toFixed(1)} ms), activate ${timing.activateMs.toFixed(1)} ms`);
    assert.ok(Number.isFinite(timing.totalMs) && timing.totalMs >= 0);

    const declared = (pkg.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    assert.deepEqual([...recorded.commands.keys()].sort(), declared, 'registered commands = contributes.commands');
    const views = Object.values(pkg.contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id).sort();
    assert.deepEqual([...recorded.treeViews.keys()].sort(), views);
    assert.ok(recorded.serializers.has('proxlab.runPanel'));
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:proxlab.runPanel'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const key of ['proxlab.runsDir', 'proxlab.device', 'proxlab.threads', 'proxlab.defaultModel']) {
      assert.ok(pkg.contributes.configuration.properties[key], `setting ${key} declared`);
    }
    // every command in a menu exists
    for (const items of Object.values(pkg.contributes.menus as Record<string, { command: string }[]>)) {
      for (const i of items) assert.ok(declared.includes(i.command), `menu item ${i.command} is a declared command`);
    }

    // a command handler works through the lazy path: Select Device writes the setting
    recorded.quickPickAnswers.push((items) => items.find((i: { label: string }) => i.label === 'cuda'));
    await recorded.commands.get('proxlab.selectDevice')!();
    assert.equal(recorded.settings.get('proxlab.device'), 'cuda');
    for (const d of context.subscriptions) d.dispose();
  } finally {
    rmSync(ext, { recursive: true, force: true });
  }
});
