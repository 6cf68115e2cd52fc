import type { Linter } from 'eslint';

export const layers: Linter.Config[];
export const untrustedKeys: Linter.Config;
