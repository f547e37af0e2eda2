// Boots node-trainer.ts in a worker_threads Worker: a worker does not inherit the parent's tsx
// loader, so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./node-trainer.ts');
