// safetensors reader/writer (https://github.com/huggingface/safetensors format): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the
// raw little-endian tensor bytes. F32 is read and written; F16/BF16/F64 are read as float32.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { ParamStore } from './params';

export class SafetensorsError extends Error {}

export function encodeSafetensors(tensors: { name: string; shape: readonly number[]; data: Float32Array }[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sorted) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsError(`tensor '${t.name}': shape [${t.shape.join(',')}] needs ${n} values, got ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' '; // keep the data 8-byte aligned
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const t of sorted) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

export interface SafetensorsEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): { tensors: SafetensorsEntry[]; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new SafetensorsError(`${source}: too short for a safetensors file`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (8 + hlen > buf.byteLength) throw new SafetensorsError(`${source}: header length ${hlen} exceeds the file size ${buf.byteLength}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new SafetensorsError(`${source}: header is not JSON (${String(e)})`);
  }
  const base = 8 + hlen;
  const tensors: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [s, e] = data_offsets;
    const n = shape.reduce((a, b) => a * b, 1);
    const size = { F32: 4, F16: 2, BF16: 2, F64: 8 }[dtype];
    if (!size) throw new SafetensorsError(`${source}: tensor '${name}' has dtype ${dtype}; expected F32, F16, BF16 or F64`);
    if (e - s !== n * size || base + e > buf.byteLength) throw new SafetensorsError(`${source}: tensor '${name}' offsets [${s}, ${e}] do not fit shape [${shape.join(',')}] ${dtype}`);
    // Uint8Array's slice copies (a Node Buffer's slice would be a view of the whole file)
    const bytes = Uint8Array.prototype.slice.call(buf, base + s, base + e);
    const tdv = new DataView(bytes.buffer);
    const data = new Float32Array(n);
    if (dtype === 'F32') data.set(new Float32Array(bytes.buffer, 0, n));
    else if (dtype === 'F64') for (let i = 0; i < n; i++) data[i] = tdv.getFloat64(8 * i, true);
    else if (dtype === 'F16') for (let i = 0; i < n; i++) data[i] = f16ToF32(tdv.getUint16(2 * i, true));
    else {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < n; i++) {
        u[0] = tdv.getUint16(2 * i, true) << 16;
        data[i] = f[0];
      }
    }
    tensors.push({ name, shape, data });
  }
  return { tensors, metadata };
}

/** Write every parameter of the store (atomically: temp file + rename). */
export function saveSafetensors(path: string, store: ParamStore, metadata: Record<string, string> = { format: 'pt' }): void {
  const bytes = encodeSafetensors(store.names().map((name) => ({ name, ...store.get(name) })), metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** Read a safetensors file into a store (new store, or into `into` replacing same-named entries). */
export function loadSafetensors(path: string, into: ParamStore = new ParamStore()): ParamStore {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  for (const t of decodeSafetensors(buf, path).tensors) into.set(t.name, t.shape, t.data);
  return into;
}
