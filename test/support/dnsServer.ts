import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { expandIpv6 } from '../../lib/webhooks/addresses.ts';

/**
 * A DNS server on 127.0.0.1 (UDP) that answers A and AAAA queries from a table the
 * test changes at will: what a name resolves to, now. The service's resolver asks it
 * over the wire, as it would ask any server; a name may move between two queries
 * (DNS rebinding). TTLs are 0.
 */
export async function startDnsServer(records: Record<string, string[]> = {}) {
  const socket = createSocket('udp4');
  const table = new Map(Object.entries(records));
  socket.on('message', (query, from) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset] !== 0 && offset < query.length) {
      const length = query[offset] as number;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const wanted = type === 1 ? 4 : type === 28 ? 6 : 0;
    const addresses = (table.get(name) ?? []).filter((a) => isIP(a) === wanted);
    const known = table.has(name);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // a response; NXDOMAIN for an unknown name
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const data =
        wanted === 4
          ? Buffer.from(address.split('.').map(Number))
          : Buffer.from((expandIpv6(address) ?? []).flatMap((g) => [g >> 8, g & 255]));
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the name, as in the question
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(0, 6);
      record.writeUInt16BE(data.length, 10);
      return Buffer.concat([record, data]);
    });
    socket.send(
      Buffer.concat([header, query.subarray(12, questionEnd), ...answers]),
      from.port,
      from.address,
    );
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    server: `127.0.0.1:${socket.address().port}`,
    /** What `name` resolves to from now on. */
    set(name: string, addresses: string[]) {
      table.set(name.toLowerCase(), addresses);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
