// NumPy .npy / .npz files, enough for FID statistics (`mu`, `sigma`) as the standard FID tools write
// them: float32/float64 little-endian arrays in a zip archive, stored or deflated.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { writeFileAtomic } from '../atomic-write';

export interface NpyArray {
  dtype: 'float32' | 'float64';
  shape: number[];
  data: Float64Array;
}

export function parseNpy(buf: Buffer, where: string): NpyArray {
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.subarray(1, 6).toString('latin1') !== 'NUMPY') {
    throw new Error(`${where}: not a .npy array (bad magic)`);
  }
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] === 'True';
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (descr !== '<f8' && descr !== '<f4')
    throw new Error(`${where}: dtype ${descr} is not supported (expected <f8 or <f4)`);
  const n = shape.reduce((a, b) => a * b, 1);
  const size = descr === '<f8' ? 8 : 4;
  if (buf.length - start < n * size)
    throw new Error(
      `${where}: truncated: shape (${shape}) needs ${n * size} bytes, found ${buf.length - start}`,
    );
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++)
    data[i] = size === 8 ? buf.readDoubleLE(start + i * 8) : buf.readFloatLE(start + i * 4);
  if (fortran && shape.length === 2) {
    const [r, c] = shape;
    const t = new Float64Array(n);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[i * c + j] = data[j * r + i];
    return { dtype: size === 8 ? 'float64' : 'float32', shape, data: t };
  }
  return { dtype: size === 8 ? 'float64' : 'float32', shape, data };
}

function encodeNpy(data: Float64Array, shape: number[]): Buffer {
  return encodeNpyAs(data, shape, 'f8');
}

/** A float32 .npy (raw generator output, `autogan sample`). */
export function encodeNpyFloat32(data: Float32Array, shape: number[]): Buffer {
  return encodeNpyAs(data, shape, 'f4');
}

function encodeNpyAs(data: Float64Array | Float32Array, shape: number[], type: 'f4' | 'f8'): Buffer {
  let header = `{'descr': '<${type}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.writeUInt8(0x93, 0);
  head.write('NUMPY', 1, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  const size = type === 'f8' ? 8 : 4;
  const body = Buffer.alloc(data.length * size);
  for (let i = 0; i < data.length; i++)
    if (size === 8) body.writeDoubleLE(data[i], i * 8);
    else body.writeFloatLE(data[i], i * 4);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** Reads every array of an .npz (zip) file. */
export function readNpz(file: string): Map<string, NpyArray> {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
  const buf = fs.readFileSync(file);
  // End of central directory: the last 22+ bytes, signature 0x06054b50.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not an .npz (zip) file`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, NpyArray>();
  for (let e = 0; e < entries; e++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: corrupt zip central directory`);
    const method = buf.readUInt16LE(p + 10);
    const compSize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let content: Buffer;
    if (method === 0) content = raw;
    else if (method === 8) content = zlib.inflateRawSync(raw);
    else throw new Error(`${file}: ${name} uses zip method ${method}; only stored and deflate are supported`);
    out.set(name.replace(/\.npy$/, ''), parseNpy(content, `${file}:${name}`));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (let i = 0; i < buf.length; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Writes arrays as an uncompressed .npz (what numpy.savez writes), atomically. */
export function writeNpz(
  file: string,
  arrays: Record<string, { data: Float64Array; shape: number[] }>,
): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [key, arr] of Object.entries(arrays)) {
    const name = Buffer.from(`${key}.npy`);
    const body = encodeNpy(arr.data, arr.shape);
    const crc = crc32(body);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(body.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(body.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    centrals.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(arrays).length, 8);
  end.writeUInt16LE(Object.keys(arrays).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileAtomic(file, Buffer.concat([...locals, cd, end]));
}

export function readStatsNpz(file: string): { mu: Float64Array; sigma: Float64Array; dim: number } {
  const arrays = readNpz(file);
  const mu = arrays.get('mu');
  const sigma = arrays.get('sigma');
  if (!mu || !sigma)
    throw new Error(
      `${file}: FID statistics need arrays "mu" and "sigma"; found ${[...arrays.keys()].join(', ') || 'none'}`,
    );
  const d = mu.shape[0];
  if (mu.shape.length !== 1 || sigma.shape.join() !== `${d},${d}`) {
    throw new Error(
      `${file}: mu has shape (${mu.shape}) and sigma (${sigma.shape}); expected (d,) and (d, d)`,
    );
  }
  return { mu: mu.data, sigma: sigma.data, dim: d };
}

export function writeStatsNpz(file: string, s: { mu: Float64Array; sigma: Float64Array; dim: number }): void {
  writeNpz(file, { mu: { data: s.mu, shape: [s.dim] }, sigma: { data: s.sigma, shape: [s.dim, s.dim] } });
}
