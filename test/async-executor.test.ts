// TensorFlow's async executor (AUTOGAN_TFE_ASYNC=1, the binding `setup:native` patches): the same
// training is bit-identical to the synchronous one, the tensor count stays flat, a kernel error is
// reported and the next op still runs. Each case in its own process: TensorFlow's context is
// created once, with the executor the environment asks for.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { bindingPatch, currentBackend } from '../core/backend';
import { BINDING_PATCH_ID, BindingPatchError, patchBindingSources } from '../tools/binding-patch';
import * as fs from 'node:fs';
import * as os from 'node:os';

const CHILD = path.join(__dirname, 'helpers', 'async-train.js');

function child(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [CHILD, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_NUM_INTRAOP_THREADS: '1', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    executor: string;
    losses: number[];
    hash: string;
    tensors: number[];
    message: string;
    after: number;
  };
}

describe('async executor', function () {
  this.timeout(120_000);
  before(function () {
    if (currentBackend()?.backend !== 'tensorflow') this.skip();
  });

  it('the installed binding carries the patch (run `npm run setup:native` if not)', () => {
    assert.equal(bindingPatch('@tensorflow/tfjs-node'), BINDING_PATCH_ID);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    assert.equal(patchBindingSources(dir), false, 'patched sources are recognised, not patched twice');
  });

  it('trains bit-identically to the synchronous executor, with a flat tensor count', () => {
    const async = child({ AUTOGAN_TFE_ASYNC: '1' });
    const sync = child({ AUTOGAN_TFE_ASYNC: '0', AUTOGAN_TEST_SIGMA_ON_DEVICE: '1' });
    assert.equal(async.executor, 'async');
    assert.equal(sync.executor, 'sync');
    assert.deepEqual(async.losses, sync.losses);
    // D losses every step, G losses every nCritic-th (null in JSON between).
    assert.ok(async.losses.filter((l) => l !== null).every(Number.isFinite), `losses: ${async.losses}`);
    assert.equal(async.hash, sync.hash);
    assert.equal(new Set(async.tensors.slice(1)).size, 1, `tensors per step: ${async.tensors}`);
  });

  it('reports an error raised inside a queued kernel, and the next op still runs', () => {
    const r = child({ AUTOGAN_TFE_ASYNC: '1' }, 'error');
    assert.equal(r.executor, 'async');
    assert.match(r.message, /indices\[0\] = 7 is not in \[0, 3\)/);
    assert.equal(r.after, 5);
  });
});

describe('binding patch', () => {
  it('refuses sources it does not recognise, naming the file, and leaves them as they were', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'binding-'));
    try {
      fs.mkdirSync(path.join(dir, 'binding'));
      fs.writeFileSync(path.join(dir, 'binding', 'tfjs_backend.cc'), '// another version\n');
      fs.writeFileSync(path.join(dir, 'binding', 'tfjs_backend.h'), '// another version\n');
      assert.throws(
        () => patchBindingSources(dir),
        (e: Error) => {
          assert.ok(e instanceof BindingPatchError);
          assert.match(e.message, /tfjs_backend\.cc: expected text not found .*4\.22\.0/);
          return true;
        },
      );
      assert.equal(
        fs.readFileSync(path.join(dir, 'binding', 'tfjs_backend.cc'), 'utf8'),
        '// another version\n',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
