// One truth per default: the step schemas' `default`s (what `autogan plan` fills in) must equal the
// TypeScript defaults that direct workflow inputs and the core use. A change to one without the
// other fails here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONTROLLER } from '../core/controller/controller';
import { DEFAULT_GAN_CONFIG } from '../core/gan/config';
import { DEFAULT_RESET } from '../core/gan/reset-detector';
import { DEFAULT_TRAIN } from '../core/gan/trainer';
import { projectRoot } from '../core/paths';
import { DEFAULT_RETRAIN } from '../pipeline/retrain-params';
import { DEFAULT_SEARCH } from '../pipeline/search-params';

type Schema = { properties?: Record<string, Schema>; default?: unknown };

function schema(name: string): Schema {
  return JSON.parse(
    fs.readFileSync(path.join(projectRoot(), 'schemas', 'steps', `${name}.schema.json`), 'utf8'),
  );
}

/** The defaults a schema fills into an object, recursing into object-valued properties. */
function defaults(s: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    if (p.properties) out[k] = defaults(p);
    else if (p.default !== undefined) out[k] = p.default;
  }
  return out;
}

/** Keys of `ts` that the schema also defaults must have the same value. */
function assertAgree(
  fromSchema: Record<string, unknown>,
  ts: Record<string, unknown>,
  where: string,
): number {
  let checked = 0;
  for (const [k, v] of Object.entries(fromSchema)) {
    if (!(k in ts)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v))
      checked += assertAgree(v as Record<string, unknown>, ts[k] as Record<string, unknown>, `${where}.${k}`);
    else {
      assert.deepEqual(
        ts[k],
        v,
        `${where}.${k}: schema default ${JSON.stringify(v)}, TypeScript ${JSON.stringify(ts[k])}`,
      );
      checked++;
    }
  }
  return checked;
}

describe('defaults in one place', () => {
  it('autogan.search: the schema defaults equal DEFAULT_SEARCH, every one of them', () => {
    const fromSchema = defaults(schema('autogan.search'));
    const checked = assertAgree(fromSchema, DEFAULT_SEARCH as unknown as Record<string, unknown>, 'search');
    const count = (o: Record<string, unknown>): number =>
      Object.values(o).reduce<number>(
        (n, v) =>
          n + (v && typeof v === 'object' && !Array.isArray(v) ? count(v as Record<string, unknown>) : 1),
        0,
      );
    assert.equal(checked, count(fromSchema), 'every schema default has a TypeScript counterpart');
  });

  it('autogan.retrain: the schema defaults equal DEFAULT_RETRAIN', () => {
    assert.ok(
      assertAgree(
        defaults(schema('autogan.retrain')),
        DEFAULT_RETRAIN as unknown as Record<string, unknown>,
        'retrain',
      ) > 20,
    );
  });

  it('the core defaults agree with the search defaults where they name the same thing', () => {
    const s = DEFAULT_SEARCH;
    assert.deepEqual({ ...DEFAULT_GAN_CONFIG }, { ...s.gan });
    for (const k of Object.keys(s.train) as Array<keyof typeof s.train>)
      assert.equal(DEFAULT_TRAIN[k], s.train[k], `train.${k}`);
    assert.deepEqual(
      { window: DEFAULT_RESET.window, threshold: DEFAULT_RESET.threshold, measure: DEFAULT_RESET.measure },
      { window: s.dynamicReset.window, threshold: s.dynamicReset.threshold, measure: s.dynamicReset.measure },
    );
    assert.equal(DEFAULT_CONTROLLER.hiddenSize, s.hiddenSize);
    assert.equal(DEFAULT_CONTROLLER.lr, s.ctrlLr);
    assert.equal(DEFAULT_CONTROLLER.entropyCoeff, s.entropyCoeff);
    assert.equal(DEFAULT_CONTROLLER.baselineDecay, s.baselineDecay);
    assert.equal(DEFAULT_CONTROLLER.reinforce, s.reinforce);
    assert.equal(DEFAULT_CONTROLLER.baselineScope, s.baselineScope);
  });
});
