/** The compiled CLI's path while it matches its sources, else undefined (bin/cliBundle.js). */
export function currentBundle(root: string): string | undefined;
