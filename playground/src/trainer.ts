// The Web Worker: the model, the digits and the kernels live here, answering TrainerClient (docs/worker.md).
import { serveTrainer } from 'stride-cnn/worker';

serveTrainer(self);
