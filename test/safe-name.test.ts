// One id-to-folder rule for run folders (core/artifacts safeName): every id gets a folder of its
// own inside the store, whatever characters it holds.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { runFolderOf, safeName } from '../core/artifacts';

describe('run folder names', () => {
  it('keep letters, digits, dots, dashes and underscores; replace the rest', () => {
    assert.equal(safeName('nightly:2026-12-05'), 'nightly_2026-12-05');
    assert.equal(safeName('a/b\\c d'), 'a_b_c_d');
    assert.equal(
      safeName('tiny-autogan-20261205T202756-wh8u.search'),
      'tiny-autogan-20261205T202756-wh8u.search',
    );
  });

  it('never name the store itself or its parent', () => {
    for (const id of ['', '.', '..', '...', '../..', '/'])
      assert.equal(path.dirname(runFolderOf('/store/runs', id)), '/store/runs', JSON.stringify(id));
    assert.equal(safeName('..'), '___');
    assert.equal(safeName(''), '_');
  });
});
