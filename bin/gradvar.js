#!/usr/bin/env node
// The `gradvar` command. The engine is TypeScript run directly through tsx's loader, so
// there is no build step between editing a file and running it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
