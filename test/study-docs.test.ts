// docs/studies.md shows the ablation study's tables as generated from its committed study.json
// (npm run docs:study): the published numbers are the JSON's, and its means recompute from its runs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import prettier from 'prettier';
import { projectRoot } from '../core/paths';
import type { StudyJson } from '../services/study/aggregate';
import { DOC, regenerated } from '../tools/gen-study-table';

describe('docs/studies.md: the ablation study', () => {
  it('shows the tables generated from the committed study.json', async () => {
    const page = fs.readFileSync(DOC, 'utf8');
    const { page: fresh } = regenerated(page);
    const config = (await prettier.resolveConfig(DOC)) ?? {};
    const formatted = await prettier.format(fresh, { ...config, filepath: DOC });
    assert.equal(page, formatted, 'run `npm run docs:study` to regenerate the tables');
  });

  it('the committed study.json: ≥ 4 variants × ≥ 3 seeds, a proxy check of ≥ 10 architectures, means that recompute', () => {
    const { file } = regenerated(fs.readFileSync(DOC, 'utf8'));
    const j = JSON.parse(fs.readFileSync(path.join(projectRoot(), file), 'utf8')) as StudyJson;
    assert.ok(j.variants.length >= 4);
    for (const v of j.variants) {
      assert.ok(v.runs.length >= 3, v.name);
      const is = v.runs.reduce((a, r) => a + r.is, 0) / v.runs.length;
      assert.ok(Math.abs(is - v.mean.is!) < 1e-3, `${v.name}: mean IS ${v.mean.is} vs ${is}`);
      const fid = v.runs.reduce((a, r) => a + r.fid!, 0) / v.runs.length;
      assert.ok(Math.abs(fid - v.mean.fid!) < 1e-3, `${v.name}: mean FID ${v.mean.fid} vs ${fid}`);
    }
    assert.ok(j.proxy && j.proxy.points.length >= 10);
    assert.deepEqual(j.missing, []);
  });
});
