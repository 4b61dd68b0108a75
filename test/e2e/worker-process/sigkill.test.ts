import { workerProcessTests } from './worker-process-suite.js';

workerProcessTests('sigkill');
