#!/usr/bin/env node
// `npx concord`: runs the TypeScript entry through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/concord.ts');
