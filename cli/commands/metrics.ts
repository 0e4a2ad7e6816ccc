import type { Command } from 'commander';
import { selectBackend } from '../../core/backend';
import { parseArchText } from '../../core/arch/encoding';
import { evaluateImages } from '../../core/metrics/evaluate';
import {
  FID_INCEPTION_PREFIX,
  loadDigitClassifier,
  loadFeatureNetwork,
  loadTfjsNetwork,
  type FeatureNetwork,
} from '../../core/metrics/features';
import { frechetDistance, type GaussianStats } from '../../core/metrics/fid';
import { writeStatsNpz } from '../../core/metrics/npz';
import { disposeSource, openSource, type Source } from '../../core/metrics/sources';

interface NetOpts {
  network: string;
  networkFormat: 'graph' | 'layers';
  inputSize: number;
  inputChannels: number;
  inputRange: '[-1,1]' | '[0,1]' | '[0,255]';
  probsNode?: string;
  featuresNode?: string;
  softmax?: boolean;
  images: number;
  batchSize: number;
  arch?: string;
  seed: number;
  raw?: boolean;
}

function withNetworkOptions(cmd: Command): Command {
  return cmd
    .option(
      '--network <digits|fid-inception:dir|path|url>',
      'feature network: the bundled digit classifier, the FID-standard Inception converted with ' +
        '`autogan convert fid-inception` (fid-inception:<dir>; published IS/FID numbers use it), or a tfjs model',
      'digits',
    )
    .option('--network-format <graph|layers>', 'tfjs model format', 'graph')
    .option(
      '--input-size <n>',
      'input side the network expects (299 for Inception-v3)',
      (v) => Number(v),
      299,
    )
    .option('--input-channels <n>', '1 or 3', (v) => Number(v), 3)
    .option('--input-range <r>', '[-1,1], [0,1] or [0,255]', '[-1,1]')
    .option(
      '--probs-node <name>',
      'node/layer with class logits or probabilities (default: the model output)',
    )
    .option('--features-node <name>', 'node/layer with pooled features (required for a tfjs model)')
    .option('--softmax', 'apply softmax to the probs node (it holds logits)')
    .option('--images <n>', 'images to score from generators and datasets', (v) => Number(v), 5000)
    .option('--batch-size <n>', 'images per batch', (v) => Number(v), 100)
    .option('--arch <vector>', 'architecture to sample from a shared (supernet) checkpoint, e.g. "0 1 0 1"')
    .option('--seed <n>', 'seed of the latent draws', (v) => Number(v), 0)
    .option('--raw', 'sample with the raw generator weights instead of the EMA weights');
}

async function network(o: NetOpts): Promise<FeatureNetwork> {
  await selectBackend('auto');
  if (o.network === 'digits') return loadDigitClassifier();
  // Fixed input size, range and nodes: the --input-*/--*-node options do not apply to it.
  if (o.network.startsWith(FID_INCEPTION_PREFIX)) return loadFeatureNetwork(o.network);
  if (!o.featuresNode)
    throw new Error(
      '--features-node is required with a tfjs model (e.g. the pool_3 / avg_pool node of Inception-v3)',
    );
  return loadTfjsNetwork({
    source: o.network,
    format: o.networkFormat,
    inputSize: o.inputSize,
    inputChannels: o.inputChannels === 1 ? 1 : 3,
    inputRange: o.inputRange,
    featuresNode: o.featuresNode,
    softmax: !!o.softmax,
    ...(o.probsNode ? { probsNode: o.probsNode } : {}),
  });
}

function progress(label: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (now - last > 2000 || done === total) {
      console.error(`[metrics] ${label}: ${done}/${total} images`);
      last = now;
    }
  };
}

function open(ref: string, o: NetOpts): Source {
  return openSource(ref, { seed: o.seed, ema: !o.raw, ...(o.arch ? { arch: parseArchText(o.arch) } : {}) });
}

async function statsOf(s: Source, net: FeatureNetwork, o: NetOpts): Promise<GaussianStats> {
  if (s.kind === 'stats') return s.stats;
  const n = Math.min(o.images, s.source.count);
  const ev = await evaluateImages(net, s.source, {
    images: n,
    batchSize: o.batchSize,
    is: false,
    stats: true,
    onProgress: progress(s.label),
  });
  return ev.stats!;
}

export function registerMetricsCommands(program: Command): void {
  const metrics = program
    .command('metrics')
    .description('Inception Score and FID of image sets, generator checkpoints and .npz statistics');

  withNetworkOptions(
    metrics
      .command('is')
      .description('Inception Score (mean ± std over 10 splits)')
      .argument('<source>', 'checkpoint (.ckpt), PNG folder, mnist, cifar10:<dir>, stl10:<dir>'),
  ).action(async (ref: string, o: NetOpts) => {
    const net = await network(o);
    const s = open(ref, o);
    if (s.kind !== 'images') throw new Error(`${ref} holds statistics, not images: IS needs images`);
    const n = Math.min(o.images, s.source.count);
    const ev = await evaluateImages(net, s.source, {
      images: n,
      batchSize: o.batchSize,
      onProgress: progress(s.label),
    });
    disposeSource(s);
    console.log(JSON.stringify({ source: ref, network: net.name, images: n, is: ev.is }));
  });

  withNetworkOptions(
    metrics
      .command('fid')
      .description('FID between two sources (checkpoints, PNG folders, datasets or .npz statistics)')
      .argument('<a>')
      .argument('<b>'),
  ).action(async (a: string, b: string, o: NetOpts) => {
    const sa = open(a, o);
    const sb = open(b, o);
    const net = sa.kind === 'stats' && sb.kind === 'stats' ? undefined : await network(o);
    const stA = await statsOf(sa, net!, o);
    const stB = await statsOf(sb, net!, o);
    disposeSource(sa);
    disposeSource(sb);
    console.log(
      JSON.stringify({ a, b, ...(net ? { network: net.name } : {}), fid: frechetDistance(stA, stB) }),
    );
  });

  withNetworkOptions(
    metrics
      .command('stats')
      .description('write FID statistics (mu, sigma) of a source as .npz, the layout the FID tools use')
      .argument('<source>')
      .requiredOption('--out <file.npz>', 'output file'),
  ).action(async (ref: string, o: NetOpts & { out: string }) => {
    const net = await network(o);
    const s = open(ref, o);
    const st = await statsOf(s, net, o);
    disposeSource(s);
    writeStatsNpz(o.out, st);
    console.log(JSON.stringify({ source: ref, network: net.name, dim: st.dim, out: o.out }));
  });
}
