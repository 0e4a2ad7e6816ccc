// TensorBoard event files, written without TensorFlow: a TFRecord stream (length, masked CRC-32C,
// payload, masked CRC-32C) of `Event` protocol buffers holding scalar and image summaries, the
// format `tensorboard --logdir` reads. Only the few fields used here are encoded, by hand
// (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto).
import { safeName } from '../artifacts';

/** One scalar point: `tag` at `step`. */
export interface ScalarEvent {
  kind: 'scalar';
  tag: string;
  step: number;
  value: number;
  /** Seconds since the epoch; TensorBoard's "relative" axis is measured from the first event. */
  wallTime: number;
}

/** One PNG image under `tag` at `step`. */
export interface ImageEvent {
  kind: 'image';
  tag: string;
  step: number;
  png: Buffer;
  wallTime: number;
}

export type SummaryEvent = ScalarEvent | ImageEvent;

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotated right by 15 bits plus a constant. */
function maskedCrc(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = BigInt(Math.trunc(n));
  if (v < 0n) v += 1n << 64n; // int64 as two's complement, 10 bytes
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, b: Buffer) => Buffer.concat([key(field, 2), varint(b.length), b]);
const stringField = (field: number, s: string) => bytesField(field, Buffer.from(s, 'utf8'));
const varintField = (field: number, n: number) => Buffer.concat([key(field, 0), varint(n)]);

function doubleField(field: number, v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([key(field, 1), b]);
}

function floatField(field: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return Buffer.concat([key(field, 5), b]);
}

/** Width, height and channels from a PNG's IHDR chunk. */
function pngHeader(png: Buffer): { width: number; height: number; channels: number } {
  if (png.length < 26 || png.readUInt32BE(12) !== 0x49484452) throw new Error('not a PNG image');
  const channels = ({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 } as Record<number, number>)[png[25]] ?? 3;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), channels };
}

/** Summary.Value: tag plus simple_value (2) or image (4). */
function summaryValue(e: SummaryEvent): Buffer {
  if (e.kind === 'scalar') return Buffer.concat([stringField(1, e.tag), floatField(2, e.value)]);
  const { width, height, channels } = pngHeader(e.png);
  const image = Buffer.concat([
    varintField(1, height),
    varintField(2, width),
    varintField(3, channels), // colorspace: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    bytesField(4, e.png),
  ]);
  return Buffer.concat([stringField(1, e.tag), bytesField(4, image)]);
}

/** Event: wall_time (1), step (2), and file_version (3) or summary (5). */
function event(wallTime: number, step: number, body: { fileVersion: string } | { value: Buffer }): Buffer {
  const parts = [doubleField(1, wallTime), varintField(2, step)];
  if ('fileVersion' in body) parts.push(stringField(3, body.fileVersion));
  else parts.push(bytesField(5, bytesField(1, body.value)));
  return Buffer.concat(parts);
}

function record(data: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const lenCrc = Buffer.alloc(4);
  lenCrc.writeUInt32LE(maskedCrc(len));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskedCrc(data));
  return Buffer.concat([len, lenCrc, data, dataCrc]);
}

/** A whole event file: the version record, then each event in order (non-finite scalars left out). */
export function eventFile(events: SummaryEvent[]): Buffer {
  const first = events[0]?.wallTime ?? 0;
  const records = [record(event(first, 0, { fileVersion: 'brain.Event:2' }))];
  for (const e of events) {
    if (e.kind === 'scalar' && !Number.isFinite(e.value)) continue;
    records.push(record(event(e.wallTime, e.step, { value: summaryValue(e) })));
  }
  return Buffer.concat(records);
}

/**
 * A file name TensorBoard reads (`events.out.tfevents.*`). Fixed rather than stamped with the time
 * and host, so rewriting a run's events replaces its file instead of adding another; `part` tells
 * apart the files of one folder (one per retrained candidate).
 */
export function eventFileName(part: string): string {
  return `events.out.tfevents.0.autogan-${safeName(part)}`;
}
