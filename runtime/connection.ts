// How clients reach Temporal: a local dev server by default, or any cluster through environment
// variables (documented in the README). Client-only: commands such as `status` and `schedule list`
// import this without loading worker code or TensorFlow (workers connect in runtime/worker.ts).
import * as fs from 'node:fs';
import { Connection, Client } from '@temporalio/client';

export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: { serverName?: string; ca?: Buffer; cert?: Buffer; key?: Buffer };
  apiKey?: string;
  /** Base of the Web UI, for links (TEMPORAL_UI_URL). */
  uiUrl?: string;
}

function read(file: string | undefined, what: string): Buffer | undefined {
  if (!file) return undefined;
  if (!fs.existsSync(file)) throw new Error(`${what} file ${file} does not exist`);
  return fs.readFileSync(file);
}

/** Builds the target from TEMPORAL_* variables, with overrides from command-line flags. */
export function targetFromEnv(
  overrides: Partial<Pick<TemporalTarget, 'address' | 'namespace'>> = {},
): TemporalTarget {
  const env = process.env;
  const cert = read(env.TEMPORAL_TLS_CERT, 'TEMPORAL_TLS_CERT');
  const key = read(env.TEMPORAL_TLS_KEY, 'TEMPORAL_TLS_KEY');
  const ca = read(env.TEMPORAL_TLS_CA, 'TEMPORAL_TLS_CA');
  const useTls =
    cert || key || ca || env.TEMPORAL_TLS === '1' || env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY;
  if ((cert && !key) || (key && !cert))
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  const address = overrides.address ?? env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  return {
    address,
    namespace: overrides.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    ...(useTls ? { tls: { serverName: env.TEMPORAL_TLS_SERVER_NAME, ca, cert, key } } : {}),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    uiUrl:
      env.TEMPORAL_UI_URL ??
      (address.startsWith('127.0.0.1:7233') || address.startsWith('localhost:7233')
        ? 'http://127.0.0.1:8233'
        : undefined),
  };
}

export function tlsOptions(t: TemporalTarget) {
  if (!t.tls) return undefined;
  return {
    ...(t.tls.serverName ? { serverNameOverride: t.tls.serverName } : {}),
    ...(t.tls.ca ? { serverRootCACertificate: t.tls.ca } : {}),
    ...(t.tls.cert && t.tls.key ? { clientCertPair: { crt: t.tls.cert, key: t.tls.key } } : {}),
  };
}

export class TemporalUnreachable extends Error {
  constructor(address: string, cause: string) {
    super(
      `cannot reach a Temporal server at ${address} (${cause}). Start one with \`npx autogan server\`, ` +
        `or point TEMPORAL_ADDRESS (or --address) at yours`,
    );
    this.name = 'TemporalUnreachable';
  }
}

export async function connectClient(t: TemporalTarget): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: t.address,
      ...(t.tls ? { tls: tlsOptions(t) } : {}),
      ...(t.apiKey ? { apiKey: t.apiKey } : {}),
    });
  } catch (err) {
    throw unreachable(t, err);
  }
  return new Client({ connection, namespace: t.namespace });
}

/** A failed connect as a plain message: the SDK's own is a raw transport error (tonic::transport::Error(…)). */
export function unreachable(t: TemporalTarget, err: unknown): TemporalUnreachable {
  const raw = String((err as Error)?.message ?? err);
  return new TemporalUnreachable(t.address, /refused/i.test(raw) ? 'connection refused' : raw.split('\n')[0]);
}

export function workflowLink(t: TemporalTarget, workflowId: string): string | undefined {
  return t.uiUrl
    ? `${t.uiUrl}/namespaces/${t.namespace}/workflows/${encodeURIComponent(workflowId)}`
    : undefined;
}
