import type { Command } from 'commander';
import { archCost } from '../../core/arch/cost';
import { describeCell, parseArch, parseArchText } from '../../core/arch/encoding';

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function registerArchCommands(program: Command): void {
  const arch = program.command('arch').description('architectures in the AutoGAN reference encoding');
  arch
    .command('describe')
    .description('print an architecture vector in words, with its parameter and multiply-accumulate counts')
    .argument('<vector...>', 'integers, e.g. 0 1 0 1  1 1 1 1 1  0 2 0 0 3 (or "[0, 1, ...]")')
    .option('--gf-dim <n>', 'generator width', (v) => Number(v), 256)
    .option('--bottom-width <n>', 'first feature map side', (v) => Number(v), 4)
    .option('--latent-dim <n>', 'latent size', (v) => Number(v), 128)
    .option('--channels <n>', 'image channels', (v) => Number(v), 3)
    .option('--image-size <n>', 'check that the architecture produces this resolution')
    .option('--json', 'print JSON')
    .action(
      (
        parts: string[],
        opts: {
          gfDim: number;
          bottomWidth: number;
          latentDim: number;
          channels: number;
          imageSize?: string;
          json?: boolean;
        },
      ) => {
        const vector = parseArchText(parts.join(' '));
        const cells = parseArch(vector);
        const cost = archCost(vector, {
          gfDim: opts.gfDim,
          bottomWidth: opts.bottomWidth,
          latentDim: opts.latentDim,
          channels: opts.channels,
        });
        if (opts.imageSize && Number(opts.imageSize) !== cost.outputSize) {
          throw new Error(
            `${cells.length} cells from a ${opts.bottomWidth}×${opts.bottomWidth} map produce ${cost.outputSize}×${cost.outputSize} images, not ${opts.imageSize}×${opts.imageSize}: change --bottom-width or the number of cells`,
          );
        }
        if (opts.json) {
          console.log(JSON.stringify({ vector, cells, ...cost }, null, 2));
          return;
        }
        console.log(
          `architecture [${vector.join(' ')}], ${cells.length} cell${cells.length > 1 ? 's' : ''}, ${cost.outputSize}×${cost.outputSize}×${opts.channels} output`,
        );
        cells.forEach((c, s) => console.log(`  ${describeCell(c, s)}`));
        console.log(
          `  parameters: ${cost.params.toLocaleString('en-US')} (${human(cost.params)}) at gf_dim ${opts.gfDim}`,
        );
        console.log(
          `  multiply-accumulates per image: ${cost.macs.toLocaleString('en-US')} (${human(cost.macs)}MACs)`,
        );
      },
    );
}
