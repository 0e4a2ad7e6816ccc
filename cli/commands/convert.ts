// `autogan convert …`: turns published third-party weights into the project's weight format once,
// so nothing is downloaded or unpickled at run time.
import type { Command } from 'commander';
import { selectBackend } from '../../core/backend';
import { convertFidInception, PUBLISHED_FILE } from '../../core/metrics/fid-inception';

export function registerConvertCommands(program: Command): void {
  const convert = program
    .command('convert')
    .description("convert published weights into the project's weight format (never downloads)");

  convert
    .command('fid-inception')
    .description(
      `the FID-standard Inception (${PUBLISHED_FILE}, as pytorch-fid and torch-fidelity publish it) → ` +
        '<out>/fid-inception.ckpt, for --network fid-inception:<out>',
    )
    .argument('<weights>', `${PUBLISHED_FILE} (read through Python with torch), or an .npz with its keys`)
    .requiredOption('--out <dir>', 'directory to write fid-inception.ckpt into (written atomically)')
    .option(
      '--skip-checksum',
      'accept weights whose sha256 does not start with 6726825d (same names and shapes)',
    )
    .action(async (source: string, o: { out: string; skipChecksum?: boolean }) => {
      await selectBackend('auto');
      const r = await convertFidInception(source, { out: o.out, skipChecksum: !!o.skipChecksum });
      console.log(
        JSON.stringify({
          out: r.file,
          network: `fid-inception:${o.out}`,
          tensors: r.tensors,
          sha256: r.sha256,
          checksum: r.checksum,
          ...(r.ignored.length ? { ignored: r.ignored.length } : {}),
        }),
      );
    });
}
