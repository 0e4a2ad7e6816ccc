// Maps a JSON path inside a parsed YAML document to a line and column, so every validation error
// can point at the text a person wrote.
import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export type JsonPath = Array<string | number>;

export interface Position {
  line: number;
  col: number;
}

/**
 * The node at `path`, or the deepest existing ancestor when the path does not exist (a missing
 * required field is reported at the object that lacks it). With `key`, returns the key node of the
 * last segment, which is where an unknown property should be reported.
 */
function nodeAt(doc: Document, path: JsonPath, key = false): Node | undefined {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
      );
      if (!pair) return node as Node;
      if (key && i === path.length - 1) return (pair.key as Node) ?? (node as Node);
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return node as Node;
      node = item;
    } else {
      return node as Node;
    }
  }
  return node as Node;
}

export function positionOf(doc: Document, lines: LineCounter, path: JsonPath, key = false): Position {
  const node = nodeAt(doc, path, key);
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = lines.linePos(offset);
  return { line, col };
}

/** `spec.steps[1].with.lr`; a key that is not a plain name is quoted: `spec[" "]`, `with["a.b"]`. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (!/^[A-Za-z0-9_$-]+$/.test(seg)) out += `[${JSON.stringify(seg)}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out || '(document)';
}
