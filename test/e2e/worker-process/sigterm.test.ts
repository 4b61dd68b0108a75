import { workerProcessTests } from './worker-process-suite.js';

workerProcessTests('sigterm');
