/**
 * The embedded store in a process of its own, for the benchmark: in local mode it
 * shares the service's event loop, and its work (parsing, LevelDB) would be counted as
 * the handler's. Prints its endpoint, and stops when its standard input closes.
 */
import { startEmbeddedStore } from '../lib/local/embeddedStore.ts';

const store = await startEmbeddedStore(undefined);
process.stdout.write(`${JSON.stringify({ endpoint: store.endpoint })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void store.close().then(() => process.exit(0)));
