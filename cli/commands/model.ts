// `autogan import reference` (the reference's PyTorch checkpoints → our checkpoint format) and
// `autogan sample` (raw generator output from any checkpoint, as .npy or PNGs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { parseArchText } from '../../core/arch/encoding';
import { writeFileAtomic } from '../../core/atomic-write';
import { selectBackend } from '../../core/backend';
import { encodePng } from '../../core/datasets/png-folder';
import { importReferenceCheckpoint } from '../../core/gan/reference-checkpoint';
import { PUBLISHED_ARCHS } from '../../core/gan/reference-import';
import { GanTrainer } from '../../core/gan/trainer';
import { encodeNpyFloat32, parseNpy } from '../../core/metrics/npz';
import { Rng } from '../../core/rng';
import { CliExit } from '../exit';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliExit(2, `autogan: "${v}" is not a positive integer`);
  return n;
};

/** An architecture vector, or the name of a published model (autogan-cifar10-a|b|c). */
function archArgument(text: string): number[] {
  return PUBLISHED_ARCHS[text.trim()] ?? parseArchText(text);
}

export function registerModelCommands(program: Command): void {
  registerImport(program);
  registerSample(program);
}

/** `autogan import reference`: the reference's checkpoints → ours. */
function registerImport(program: Command): void {
  const imp = program.command('import').description('import models from other implementations');
  imp
    .command('reference')
    .description(
      "convert an AutoGAN reference checkpoint (TAMU-VITA/AutoGAN's .pth, or .npz keyed by state-dict names) into our checkpoint format",
    )
    .argument('<checkpoint>', '.pth/.pt (needs Python with torch) or .npz')
    .requiredOption(
      '--arch <vector|name>',
      'architecture: "1 0 1 1 1 0 0 1 1 1 0 1 0 3", or autogan-cifar10-a|b|c for the published models',
    )
    .option('--gf-dim <n>', 'generator width (read from the weights; checked when given)', int)
    .option('--latent-dim <n>', 'latent size (read from the weights; checked when given)', int)
    .option('--bottom-width <n>', 'first feature map side (read from the weights; checked when given)', int)
    .option('--df-dim <n>', 'discriminator width (read from dis_state_dict; checked when given)', int)
    .option('--ema', 'take the generator from avg_gen_state_dict (the EMA weights the paper evaluates)')
    .requiredOption('--out <file.ckpt>', 'our checkpoint to write')
    .action(
      async (
        file: string,
        o: {
          arch: string;
          gfDim?: number;
          latentDim?: number;
          bottomWidth?: number;
          dfDim?: number;
          ema?: boolean;
          out: string;
        },
      ) => {
        await selectBackend('auto');
        const r = importReferenceCheckpoint(file, {
          arch: archArgument(o.arch),
          ...(o.gfDim ? { gfDim: o.gfDim } : {}),
          ...(o.latentDim ? { latentDim: o.latentDim } : {}),
          ...(o.bottomWidth ? { bottomWidth: o.bottomWidth } : {}),
          ...(o.dfDim ? { dfDim: o.dfDim } : {}),
          ...(o.ema ? { ema: true } : {}),
        });
        try {
          r.trainer.save(o.out, {
            importedFrom: path.resolve(file),
            layout: r.layout,
            generator: r.generatorFrom,
          });
        } finally {
          r.trainer.dispose();
        }
        console.log(
          JSON.stringify({
            out: o.out,
            layout: r.layout,
            generator: r.generatorFrom,
            discriminator: r.discriminator,
            arch: archArgument(o.arch),
            gan: r.gan,
            ...(r.skipped.length ? { skipped: r.skipped } : {}),
          }),
        );
      },
    );
}

/** `autogan sample`: raw generator output or PNGs from a checkpoint. */
function registerSample(program: Command): void {
  program
    .command('sample')
    .description('write raw generator output (float32 NHWC in [-1, 1]) to .npy, or PNGs to a folder')
    .argument('<checkpoint>', 'a GAN checkpoint of ours (search supernet, retrain, or imported)')
    .option('--arch <vector|name>', 'architecture to sample from a supernet checkpoint')
    .option('--ema', 'use the EMA generator weights (retrained checkpoints)')
    .option('--latents <z.npy>', 'latent vectors [N, latentDim] (.npy, float32/float64)')
    .option('--n <n>', 'number of images when drawing latents', int)
    .option('--seed <n>', 'seed of the latent draws', (v) => Number(v), 0)
    .option('--batch-size <n>', 'images per forward pass', int, 100)
    .requiredOption('--out <file.npy|folder>', '.npy file, or a folder for PNGs')
    .action(
      async (
        file: string,
        o: {
          arch?: string;
          ema?: boolean;
          latents?: string;
          n?: number;
          seed: number;
          batchSize: number;
          out: string;
        },
      ) => {
        if (!o.latents === !o.n)
          throw new CliExit(2, 'autogan sample: give either --latents <z.npy> or --n <N>');
        await selectBackend('auto');
        const { trainer } = GanTrainer.load(file);
        try {
          if (o.ema && !trainer.ema)
            throw new CliExit(
              2,
              `autogan sample: ${file} has no EMA weights (only retrained checkpoints do)`,
            );
          const arch = o.arch ? archArgument(o.arch) : undefined;
          if (!trainer.arch && !arch)
            throw new CliExit(2, `autogan sample: ${file} is a supernet checkpoint; give --arch`);
          if (arch && !trainer.arch && trainer.stage !== (arch.length - 4) / 5)
            trainer.setStage((arch.length - 4) / 5);
          const latent = trainer.gan.latentDim;
          let z: Float32Array;
          if (o.latents) {
            const a = parseNpy(fs.readFileSync(o.latents), o.latents);
            if (a.shape.length !== 2 || a.shape[1] !== latent)
              throw new CliExit(
                2,
                `autogan sample: ${o.latents} has shape (${a.shape}); expected (N, ${latent})`,
              );
            z = Float32Array.from(a.data);
          } else z = new Rng(o.seed).normals(o.n! * latent);
          const n = z.length / latent;
          const parts: Float32Array[] = [];
          let shape: number[] = [];
          for (let i = 0; i < n; i += o.batchSize) {
            const m = Math.min(o.batchSize, n - i);
            const img = tf.tidy(() =>
              trainer.generateFrom(tf.tensor2d(z.subarray(i * latent, (i + m) * latent), [m, latent]), {
                ...(arch ? { arch } : {}),
                ema: !!o.ema,
              }),
            );
            shape = img.shape.slice(1);
            parts.push(img.dataSync() as Float32Array);
            img.dispose();
          }
          const all = new Float32Array(n * shape.reduce((a, b) => a * b, 1));
          let at = 0;
          for (const p of parts) {
            all.set(p, at);
            at += p.length;
          }
          if (o.out.endsWith('.npy')) writeFileAtomic(o.out, encodeNpyFloat32(all, [n, ...shape]));
          else {
            fs.mkdirSync(o.out, { recursive: true });
            const [h, w, c] = shape;
            const per = h * w * c;
            for (let i = 0; i < n; i++)
              writeFileAtomic(
                path.join(o.out, `${String(i).padStart(6, '0')}.png`),
                encodePng(all.subarray(i * per, (i + 1) * per), w, h, c),
              );
          }
          console.log(JSON.stringify({ out: o.out, images: n, shape: [n, ...shape], ema: !!o.ema }));
        } finally {
          trainer.dispose();
        }
      },
    );
}
