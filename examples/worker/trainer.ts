// The Web Worker: it holds the model, the data and the kernels, and answers TrainerClient.
import { serveTrainer } from 'stride-cnn/worker';

serveTrainer(self);
