// What every report page (HTML, SVG, Markdown) shares: text escaped for element content and
// attribute values alike, PNG files inlined as data: URIs (the pages open offline), numbers shown.
import * as fs from 'node:fs';

/** `s` as text safe in HTML/SVG content and in double-quoted attributes. */
export const esc = (s: unknown): string =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A PNG as a data: URI, or undefined when the file is missing (a run still writing, a moved folder). */
export function pngUri(file: string | null | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return `data:image/png;base64,${fs.readFileSync(file).toString('base64')}`;
  } catch {
    return undefined;
  }
}

/** A number with `digits` decimals, or "—" for null, undefined and non-finite values. */
export function fixed(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}
