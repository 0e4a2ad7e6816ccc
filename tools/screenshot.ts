// A PNG of an HTML report as a browser draws it (headless Chromium through playwright-core, charts
// included), for the docs' pictures of the run and study reports.
//   node dist/tools/screenshot.js <report.html> <out.png> [--height 1400] [--width 1200]
// Chromium: AUTOGAN_CHROMIUM, else /usr/bin/chromium (Debian's package; .ci/run installs it).
import * as path from 'node:path';

async function main() {
  const args = process.argv.slice(2);
  const opt = (name: string, d: number) => {
    const i = args.indexOf(name);
    if (i < 0) return d;
    const v = Number(args.splice(i, 2)[1]);
    if (!Number.isInteger(v) || v < 100) throw new Error(`${name} must be an integer ≥ 100`);
    return v;
  };
  const height = opt('--height', 1400);
  const width = opt('--width', 1200);
  const [html, out] = args;
  if (!html || !out) throw new Error('usage: screenshot <report.html> <out.png> [--height N] [--width N]');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.AUTOGAN_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`file://${path.resolve(html)}`);
    await page.waitForTimeout(500); // the charts draw after load
    if (errors.length) throw new Error(`the page logged errors: ${errors.join('; ')}`);
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width, height } });
    console.log(`${out}: ${width}×${height} of ${html}`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
