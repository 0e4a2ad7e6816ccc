// Records the histories of every workflow on a Temporal server as protobuf files
// (<workflow id>.binpb), for the replay test (test/replay.test.ts). Binary, not JSON: in this install
// the SDK's historyFromJSON fails ("type must be a Type": two protobufjs copies), while encoding and
// decoding with @temporalio/proto round-trips.
//   node dist/tools/record-histories.js <address> <out dir>
// How test/fixtures/histories/ was made: check out the release to record, run
// `autogan run test/fixtures/tiny-autogan.yaml --embedded`, start a dev server on the state file it
// left (.autogan/server/temporal.db) and run this against it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

async function main() {
  const [address, out] = process.argv.slice(2);
  if (!address || !out) throw new Error('usage: record-histories <address> <out dir>');
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    fs.mkdirSync(out, { recursive: true });
    for await (const w of client.workflow.list()) {
      const h = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const file = path.join(out, `${w.workflowId}.binpb`);
      fs.writeFileSync(file, temporal.api.history.v1.History.encode(h).finish());
      console.log(`${w.type} ${w.workflowId} ${w.status.name}: ${h.events?.length ?? 0} events -> ${file}`);
    }
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
