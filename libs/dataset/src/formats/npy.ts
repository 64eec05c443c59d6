import { unzipSync, zipSync } from 'fflate';
import { ErrorCode, S2gError } from '@s2g/contracts';

/**
 * NumPy `.npy` / `.npz` (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * `\x93NUMPY`, version (1.0 / 2.0 / 3.0), a little-endian header length (u16, or u32 from 2.0),
 * then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (64, 2, 49), }`
 * padded so the data starts on a 64-byte boundary, then the raw array.
 * An `.npz` is a zip (stored or deflated) of `<name>.npy` members.
 */

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface NpyArray {
  /** Canonical little-endian descr such as `<f4`, `<i8`, `|u1`. Half floats (`<f2`) are widened to `<f4`. */
  dtype: string;
  shape: number[];
  /** Always C (row-major) order, whatever order the file used. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

interface Kind {
  size: number;
  read(view: DataView, offset: number, little: boolean): number | bigint;
  make(n: number): NpyData;
}

const KINDS: Record<string, Kind> = {
  f2: { size: 2, read: (v, o, le) => halfToFloat(v.getUint16(o, le)), make: (n) => new Float32Array(n) },
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le), make: (n) => new Float32Array(n) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le), make: (n) => new Float64Array(n) },
  i1: { size: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  u1: { size: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  b1: { size: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le), make: (n) => new Int16Array(n) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le), make: (n) => new Uint16Array(n) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le), make: (n) => new Int32Array(n) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le), make: (n) => new Uint32Array(n) },
  i8: { size: 8, read: (v, o, le) => v.getBigInt64(o, le), make: (n) => new BigInt64Array(n) },
  u8: { size: 8, read: (v, o, le) => v.getBigUint64(o, le), make: (n) => new BigUint64Array(n) },
};

function fail(file: string, problem: string): never {
  throw new S2gError(ErrorCode.DATASET_INVALID, `${file}: ${problem}`, { file });
}

/** Parses one `.npy` buffer. `file` names the source in errors. */
export function parseNpy(buf: Uint8Array, file = 'array.npy'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) fail(file, 'not a .npy file (bad magic)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const major = buf[6];
  if (major < 1 || major > 3) fail(file, `unsupported .npy version ${major}.${buf[7]}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > buf.length) fail(file, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(file, `malformed .npy header ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(file, `bad shape (${shapeText})`);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const kind = m ? KINDS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !kind) fail(file, `unsupported dtype '${descr}' (numeric dtypes only)`);
  const little = m[1] !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  if (buf.length - dataStart < count * kind.size) {
    fail(file, `truncated data: shape (${shape.join(', ')}) needs ${count * kind.size} bytes, file has ${buf.length - dataStart}`);
  }
  const out = kind.make(count);
  const order = fortran === 'True' ? fortranToC(shape) : undefined;
  for (let i = 0; i < count; i++) {
    const v = kind.read(view, dataStart + i * kind.size, little);
    (out as unknown as (number | bigint)[])[order ? order[i] : i] = v;
  }
  const bits = m[2] === 'f' && m[3] === '2' ? 'f4' : `${m[2]}${m[3]}`;
  return { dtype: `${kind.size === 1 ? '|' : '<'}${bits}`, shape, data: out };
}

/** For each Fortran-order element index, its index in C order. */
function fortranToC(shape: number[]): Uint32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const map = new Uint32Array(count);
  const cStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < count; f++) {
    let c = 0;
    for (let d = 0; d < shape.length; d++) c += idx[d] * cStrides[d];
    map[f] = c;
    // Fortran order: the first axis varies fastest.
    for (let d = 0; d < shape.length; d++) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function descrOf(data: NpyData): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof BigInt64Array) return '<i8';
  return '<u8';
}

/** Writes a C-order `.npy` (version 1.0). Typed arrays are little-endian on every platform Node runs on. */
export function encodeNpy(array: { shape: readonly number[]; data: NpyData }): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new S2gError(ErrorCode.DATASET_INVALID, `encodeNpy: shape (${array.shape.join(', ')}) holds ${count} values, data has ${array.data.length}`);
  }
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descrOf(array.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const bytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + header.length + bytes.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(bytes, 10 + header.length);
  return out;
}

/**
 * Reads the named members of an `.npz` (all numeric members when `names` is omitted; members that
 * are not numeric, such as the original dataset's `imgs` string array, are skipped unless named).
 */
export function parseNpz(buf: Uint8Array, file = 'arrays.npz', names?: readonly string[]): Record<string, NpyArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(buf, {
      filter: (f) => f.name.endsWith('.npy') && (!names || names.includes(f.name.slice(0, -4))),
    });
  } catch (e) {
    fail(file, `not a readable .npz (zip): ${(e as Error).message}`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, bytes] of Object.entries(members)) {
    const name = member.slice(0, -4);
    try {
      out[name] = parseNpy(bytes, `${file}:${member}`);
    } catch (e) {
      if (names) throw e;
    }
  }
  for (const n of names ?? []) if (!out[n]) fail(file, `missing array '${n}'`);
  return out;
}

/** Writes an `.npz`, deflated like `numpy.savez_compressed` when `compress` is set. */
export function encodeNpz(arrays: Record<string, { shape: readonly number[]; data: NpyData }>, compress = false): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(arrays)) files[`${name}.npy`] = encodeNpy(a);
  return zipSync(files, { level: compress ? 6 : 0 });
}

/** Any numeric array as float32 (the form poses and audio are used in). */
export function toFloat32(data: NpyData): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
