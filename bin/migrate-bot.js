#!/usr/bin/env node
// The `migrate-bot` command. In a checkout (src/ present) it runs the TypeScript source through
// tsx, so it is never a stale build; in the image (dist/ only) it runs the compiled CLI.
import { existsSync } from 'node:fs';

const source = new URL('../src/main/cli-main.ts', import.meta.url);
if (existsSync(source)) {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(source.href, import.meta.url);
} else {
  await import(new URL('../dist/main/cli-main.js', import.meta.url).href);
}
