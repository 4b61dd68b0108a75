#!/usr/bin/env node
// The `migrate-bot` command: the compiled CLI (dist/, `npm run build`) when present, else the
// TypeScript source through tsx (a checkout without a build).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('../src/cli/main.ts', import.meta.url);
}
