// The trainer in a worker_threads Worker, for protocol.test.ts: it serves on the port it is given.
import { workerData } from 'node:worker_threads';
import { serveTrainer } from '../../src/worker/index.js';

serveTrainer((workerData as { port: import('node:worker_threads').MessagePort }).port);
