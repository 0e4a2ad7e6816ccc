// Mocha root hooks: choose the tensor backend once (native when installed; AUTOGAN_BACKEND=cpu for
// the pure-JS pass) and say which one the run uses.
import { selectBackend } from '../core/backend';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    await selectBackend('auto', (line) => console.log(line));
  },
};
