import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { parseBackendPreference, selectBackend } from '../core/backend';

describe('backend selection', () => {
  it('rejects unknown backend names with the allowed list', () => {
    assert.throws(
      () => parseBackendPreference('fast'),
      /unknown backend "fast": expected one of auto, tensorflow-gpu, tensorflow, cpu/,
    );
    assert.equal(parseBackendPreference(undefined), 'auto');
  });

  it('AUTOGAN_BACKEND overrides the requested backend, and the choice is logged and returned', async () => {
    const saved = tf.getBackend();
    process.env.AUTOGAN_BACKEND = 'cpu';
    const lines: string[] = [];
    try {
      const info = await selectBackend('auto', (l) => lines.push(l));
      assert.equal(info.backend, 'cpu');
      assert.equal(info.package, '@tensorflow/tfjs');
      assert.equal(tf.getBackend(), 'cpu');
      assert.ok(
        lines.some((l) => /tensor backend: @tensorflow\/tfjs \(cpu, cpu\)/.test(l)),
        lines.join('\n'),
      );
    } finally {
      delete process.env.AUTOGAN_BACKEND;
      await selectBackend('auto', () => undefined); // back to what the rest of the run uses
      assert.equal(tf.getBackend(), saved);
    }
  });
});
