import { TOOL_FIXTURES } from '../../support/tool-fixtures.js';
import { toolRollbackSuite } from './tool-suite.js';

toolRollbackSuite(TOOL_FIXTURES.find((f) => f.label === 'drizzle')!);
