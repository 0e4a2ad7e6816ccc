// `${{ ... }}` expressions in a step's `with`: references to earlier outputs and to the fan-out item.
// Pure and deterministic: the validator uses it to check references, the workflow to resolve them.

const TEMPLATE = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const WHOLE = /^\s*\$\{\{\s*([^}]*?)\s*\}\}\s*$/;

export type TemplateRef =
  | { root: 'steps'; step: string; path: string[] }
  | { root: 'item'; path: string[] }
  | { root: 'pipeline'; path: string[] };

/** Parses one expression; returns an error message when it is not a known form. */
export function parseExpression(expr: string): TemplateRef | string {
  const parts = expr.split('.').map((p) => p.trim());
  if (parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return `"${expr}" is not a dotted path`;
  if (parts[0] === 'item') return { root: 'item', path: parts.slice(1) };
  if (parts[0] === 'pipeline') return { root: 'pipeline', path: parts.slice(1) };
  if (parts[0] === 'steps') {
    if (parts.length < 3 || parts[2] !== 'outputs') {
      return `"${expr}" must have the form steps.<id>.outputs[.<field>...]`;
    }
    return { root: 'steps', step: parts[1], path: parts.slice(3) };
  }
  return `"${expr}" must start with steps., item or pipeline.`;
}

/** Every expression inside a value, with the JSON path (array of keys) where it occurs. */
export function findTemplates(
  value: unknown,
  at: Array<string | number> = [],
): Array<{ expr: string; at: Array<string | number> }> {
  if (typeof value === 'string') {
    return [...value.matchAll(TEMPLATE)].map((m) => ({ expr: m[1], at }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findTemplates(v, [...at, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findTemplates(v, [...at, k]));
  }
  return [];
}

export function isTemplate(value: unknown): boolean {
  return typeof value === 'string' && /\$\{\{/.test(value);
}

export interface TemplateContext {
  steps: Record<string, unknown>;
  item?: unknown;
  pipeline: Record<string, unknown>;
}

function dig(value: unknown, path: string[], expr: string): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !(key in (v as object))) {
      throw new Error(`template \${{ ${expr} }}: no field "${key}"`);
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function evaluate(expr: string, ctx: TemplateContext): unknown {
  const ref = parseExpression(expr);
  if (typeof ref === 'string') throw new Error(`template \${{ ${expr} }}: ${ref}`);
  if (ref.root === 'steps') {
    if (!(ref.step in ctx.steps))
      throw new Error(`template \${{ ${expr} }}: step "${ref.step}" has no output`);
    return dig(ctx.steps[ref.step], ref.path, expr);
  }
  if (ref.root === 'item') return dig(ctx.item, ref.path, expr);
  return dig(ctx.pipeline, ref.path, expr);
}

/** Resolves templates: a string that is one whole expression takes the referenced value as is. */
export function resolveTemplates<T>(value: T, ctx: TemplateContext): T {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return evaluate(whole[1], ctx) as T;
    return value.replace(TEMPLATE, (_m, expr: string) => {
      const v = evaluate(expr, ctx);
      return typeof v === 'string' ? v : JSON.stringify(v);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, ctx)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, ctx)])) as T;
  }
  return value;
}
