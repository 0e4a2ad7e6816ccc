// A full or read-only artifact store: the write fails with a message saying which, leaves no temp
// file behind, and every checkpoint stored before is intact (its hash still verifies). A real small
// filesystem (tmpfs) is mounted for it, which needs root; elsewhere the test says so and skips.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getArtifact } from '../core/artifacts';
import { writeFileAtomic } from '../core/atomic-write';
import { GanTrainer } from '../core/gan/trainer';
import { LocalStore } from '../services/artifact-store';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

function mount(dir: string, opts: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('a full or read-only artifact store', function () {
  this.timeout(120_000);
  let dir: string;
  let mounted = false;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-full-'));
    mounted = mount(dir, 'size=640k');
    if (!mounted) {
      console.warn('      (skipped: mounting a small tmpfs needs root)');
      this.skip();
    }
  });
  after(() => {
    if (mounted) execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ENOSPC: a clear error, no temp file left, every earlier checkpoint intact; then read-only the same', async () => {
    const store = new LocalStore(dir);
    const trainer = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 1, stage: 2 });
    const refs: string[] = [];
    let failure: Error | undefined;
    try {
      for (let i = 0; i < 200 && !failure; i++) {
        try {
          // Each checkpoint differs (another RNG draw in `extra`), so each takes new space.
          refs.push(await store.put('ckpt', (f) => trainer.save(f, { i })));
        } catch (err) {
          failure = err as Error;
        }
      }
      assert.ok(failure, 'the 640 KiB filesystem filled up');
      assert.ok(refs.length >= 1, 'some checkpoints fit before it did');
      assert.match(failure!.message, /no space left on the device \(ENOSPC\)/);
      assert.match(failure!.message, new RegExp(`artifact store ${dir}`));
      assert.match(failure!.message, /previous version, if any, is intact/);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'tmp')), [], 'no half-written temp file stays');
      for (const ref of refs) getArtifact(dir, ref); // the hash of every stored checkpoint still verifies
      const again = GanTrainer.load(getArtifact(dir, refs[refs.length - 1])).trainer;
      again.dispose();

      // Read-only: the same promise.
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      await assert.rejects(
        store.put('ckpt', (f) => trainer.save(f, { i: 'ro' })),
        /the filesystem is read-only \(EROFS\)/,
      );
      assert.throws(
        () => writeFileAtomic(path.join(dir, 'state.json'), '{}'),
        /cannot write .*state\.json: the filesystem is read-only/,
      );
      for (const ref of refs) getArtifact(dir, ref);
    } finally {
      trainer.dispose();
    }
  });
});
