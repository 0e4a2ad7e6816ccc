// Writes the ablation study's tables into docs/studies.md from its committed study.json, between the
// markers `<!-- study tables: <file> -->` and `<!-- end study tables -->`, with the paper's §4.3
// numbers beside ours. test/study-docs.test.ts fails when the page and the JSON disagree.
//   npm run docs:study
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';
import type { StudyJson } from '../services/study/aggregate';
import { proxyTable, runsTable, variantsTable, type PaperRow } from '../services/study/markdown';

/** AutoGAN §4.3 on CIFAR-10: §4.3.5 (48-hour searches), §4.3.3 (Fig. 9), §4.3.1 (Fig. 7). */
export const PAPER: Record<string, PaperRow> = {
  autogan: { is: 8.55, fid: 12.42 },
  'random-shared': { is: 8.09, fid: 17.34 },
  'random-no-sharing': { is: 7.97, fid: 21.39 },
  'no-dynamic-reset': { note: '"comparable" IS (Fig. 9); 72 h of search instead of 43 h' },
};
export const PAPER_SPEARMAN = 0.779;

export const DOC = path.join(projectRoot(), 'docs', 'studies.md');
const OPEN = /<!-- study tables: (\S+) -->\n[\s\S]*?<!-- end study tables -->/;

/** The generated block for a study.json (path relative to the project root). */
export function studyBlock(file: string): string {
  const j = JSON.parse(fs.readFileSync(path.join(projectRoot(), file), 'utf8')) as StudyJson;
  return [
    `<!-- study tables: ${file} -->`,
    '',
    variantsTable(j, PAPER),
    '',
    proxyTable(j, PAPER_SPEARMAN),
    '',
    '<details><summary>Every run</summary>',
    '',
    runsTable(j),
    '',
    '</details>',
    '',
    '<!-- end study tables -->',
  ].join('\n');
}

/** The page with its block regenerated; the file it names comes from the block's marker. */
export function regenerated(page: string): { page: string; file: string } {
  const m = OPEN.exec(page);
  if (!m) throw new Error(`${DOC} has no <!-- study tables: <file> --> … <!-- end study tables --> block`);
  return { page: page.replace(OPEN, studyBlock(m[1])), file: m[1] };
}

if (require.main === module) {
  const { page, file } = regenerated(fs.readFileSync(DOC, 'utf8'));
  fs.writeFileSync(DOC, page);
  console.log(`${DOC}: tables from ${file}`);
}
