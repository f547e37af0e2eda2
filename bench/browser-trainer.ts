/** W3's side in Chromium for `npm run bench:browser`: the library's own trainer, in a module worker. */
import { serveTrainer } from '../src/worker/index.js';

serveTrainer(self);
