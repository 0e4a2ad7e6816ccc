import { strict as assert } from 'node:assert';
import { findTemplates, parseExpression, resolveTemplates } from '../pipeline/templates';
import { dependencyOrder, findCycles } from '../pipeline/dag';

describe('templates', () => {
  const ctx = {
    steps: { a: { shards: [{ start: 0 }, { start: 5 }], name: 'x' } },
    item: { start: 5 },
    pipeline: { seed: 3 },
  };

  it('a whole-string expression keeps the referenced value and its type', () => {
    assert.deepEqual(resolveTemplates({ s: '${{ steps.a.outputs.shards }}' }, ctx), {
      s: ctx.steps.a.shards,
    });
    assert.deepEqual(resolveTemplates({ s: '${{ item.start }}' }, ctx), { s: 5 });
  });

  it('expressions inside a longer string are interpolated', () => {
    assert.equal(resolveTemplates('run-${{ steps.a.outputs.name }}-${{ pipeline.seed }}', ctx), 'run-x-3');
  });

  it('a missing field is an error naming it', () => {
    assert.throws(() => resolveTemplates('${{ item.end }}', ctx), /no field "end"/);
  });

  it('finds expressions with their path and rejects unknown forms', () => {
    assert.deepEqual(findTemplates({ a: [1, 'x ${{ item }}'] }), [{ expr: 'item', at: ['a', 1] }]);
    assert.match(String(parseExpression('steps.a.shards')), /steps.<id>.outputs/);
    assert.match(String(parseExpression('env.HOME')), /must start with/);
  });
});

describe('dag', () => {
  it('finds each cycle once', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['a']],
      ['c', ['c']],
      ['d', []],
    ]);
    assert.deepEqual(findCycles(g), [['a', 'b'], ['c']]);
  });
  it('orders steps after their needs, keeping file order otherwise', () => {
    const order = dependencyOrder([
      { id: 'c', needs: ['a'] },
      { id: 'a', needs: [] },
      { id: 'b', needs: [] },
    ]);
    assert.deepEqual(
      order.map((s) => s.id),
      ['a', 'c', 'b'],
    );
  });
});
