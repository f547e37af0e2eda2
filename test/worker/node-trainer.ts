// The trainer in a worker_threads Worker, for protocol.test.ts: it serves on the port it is given,
// or on parentPort.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serveTrainer } from '../../src/worker/index.js';

serveTrainer((workerData as { port?: MessagePort } | null)?.port ?? parentPort!);
