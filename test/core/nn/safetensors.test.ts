import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParamStore, normalInit } from '../../../src/core/nn/params';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../../../src/core/nn/safetensors';
import { Rng } from '../../../src/core/rng';

test('safetensors round trip keeps names, shapes and values; header is 8-byte aligned JSON', () => {
  const s = new ParamStore(new Rng(4));
  s.declare('transformer.wte.weight', [5, 3], normalInit(1));
  s.declare('transformer.ln_f.bias', [3], normalInit(1));
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'model.safetensors');
  saveSafetensors(path, s);
  const back = loadSafetensors(path);
  assert.deepEqual(back.names().sort(), s.names().sort());
  for (const n of s.names()) {
    assert.deepEqual(back.get(n).shape, s.get(n).shape);
    assert.deepEqual(Array.from(back.get(n).data), Array.from(s.get(n).data));
  }
  const bytes = encodeSafetensors([{ name: 'a', shape: [2], data: Float32Array.of(1, 2) }], { format: 'pt' });
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + hlen) % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  assert.deepEqual(header.a, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
  assert.deepEqual(header.__metadata__, { format: 'pt' });
});

test('safetensors reads F16 and BF16 and rejects bad files with the file named', () => {
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
  const hb = new TextEncoder().encode(header);
  const buf = new Uint8Array(8 + hb.length + 6);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  buf.set(hb, 8);
  dv.setUint16(8 + hb.length, 0x3c00, true); // 1.0
  dv.setUint16(8 + hb.length + 2, 0xc000, true); // -2.0
  dv.setUint16(8 + hb.length + 4, 0x4040, true); // bf16 3.0
  const { tensors } = decodeSafetensors(buf);
  assert.deepEqual(Array.from(tensors.find((t) => t.name === 'h')!.data), [1, -2]);
  assert.deepEqual(Array.from(tensors.find((t) => t.name === 'b')!.data), [3]);
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, Uint8Array.of(255, 0, 0, 0, 0, 0, 0, 0, 1));
  assert.throws(() => loadSafetensors(bad), new RegExp(`${bad}: header length 255 exceeds`));
});

test('parameter-space ops: clone, mix (interpolate / extrapolate), copyFrom', () => {
  const a = new ParamStore(new Rng(1));
  a.set('w', [2], Float32Array.of(1, 2));
  const b = a.clone();
  b.get('w').data.set([3, 6]);
  assert.deepEqual(Array.from(a.get('w').data), [1, 2], 'clone owns its buffers');
  const c = a.clone();
  c.mix(b, 0.25);
  assert.deepEqual(Array.from(c.get('w').data), [1.5, 3]);
  c.mix(a, 2); // extrapolate past a: c + 2 (a - c)
  assert.deepEqual(Array.from(c.get('w').data), [0.5, 1]);
  c.copyFrom(b);
  assert.deepEqual(Array.from(c.get('w').data), [3, 6]);
});
