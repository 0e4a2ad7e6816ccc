import type { Command } from 'commander';
import { targetFromEnv, type TemporalTarget } from '../../runtime/connection';

/** --address / --namespace on every command that talks to Temporal (env TEMPORAL_* otherwise). */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'Temporal frontend (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or "default")');
}

export function targetFrom(opts: { address?: string; namespace?: string }): TemporalTarget {
  return targetFromEnv({
    ...(opts.address ? { address: opts.address } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
  });
}
