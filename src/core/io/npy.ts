// NumPy .npy reader/writer (format versions 1.0–3.0, little-endian, C order) for problem
// data and result arrays. Errors name the file and what was expected.
import { readFileSync, writeFileSync } from 'node:fs';

export type NpyDtype = '<f8' | '<f4' | '<i4' | '<i8' | '|u1' | '|b1';
export type NpyData = Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {}

export function parseNpy(buf: Uint8Array, source = '<buffer>'): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new NpyError(`${source}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = buf[6];
  if (major < 1 || major > 3) throw new NpyError(`${source}: unsupported .npy version ${major}.${buf[7]}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyError(`${source}: malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') throw new NpyError(`${source}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new NpyError(`${source}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const body = new Uint8Array(buf.subarray(offset)); // a copy: typed-array views need an aligned offset (Buffer.slice would not copy)
  const sizes: Record<string, number> = { '<f8': 8, '<f4': 4, '<i4': 4, '<i8': 8, '|u1': 1, '|b1': 1 };
  const size = sizes[descr];
  if (!size) throw new NpyError(`${source}: dtype ${descr} not supported (expected one of ${Object.keys(sizes).join(', ')})`);
  if (body.byteLength < count * size) {
    throw new NpyError(`${source}: truncated data: shape (${shape.join(', ')}) needs ${count * size} bytes, file has ${body.byteLength}`);
  }
  const ab = body.buffer;
  let data: NpyData;
  switch (descr) {
    case '<f8': data = new Float64Array(ab, 0, count); break;
    case '<f4': data = new Float32Array(ab, 0, count); break;
    case '<i4': data = new Int32Array(ab, 0, count); break;
    case '<i8': data = new BigInt64Array(ab, 0, count); break;
    default: data = new Uint8Array(ab, 0, count);
  }
  return { dtype: descr as NpyDtype, shape, data };
}

export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new NpyError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseNpy(buf, path);
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof BigInt64Array) return '<i8';
  return '|u1';
}

export function encodeNpy(data: NpyData, shape: number[] = [data.length]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`encodeNpy: shape (${shape.join(', ')}) has ${count} elements, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${dtypeOf(data)}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function writeNpy(path: string, data: NpyData, shape?: number[]): void {
  writeFileSync(path, encodeNpy(data, shape));
}

/** Read a float array (any numeric dtype) as Float64Array, checking the shape against `expected` (-1 = any). */
export function readMatrix(path: string, expected?: number[]): { data: Float64Array; shape: number[] } {
  const a = readNpy(path);
  if (expected) {
    const ok = expected.length === a.shape.length && expected.every((n, i) => n < 0 || n === a.shape[i]);
    if (!ok) {
      const want = expected.map((n) => (n < 0 ? 'any' : String(n))).join(', ');
      throw new NpyError(`${path}: expected an array of shape (${want}), got (${a.shape.join(', ')})`);
    }
  }
  const data = a.data instanceof BigInt64Array ? Float64Array.from(a.data, (x) => Number(x)) : Float64Array.from(a.data as ArrayLike<number>);
  return { data, shape: a.shape };
}
