// Network faults for tests: a port nothing listens on, a server that accepts connections and
// never says a word (a hung database or broker), so that connect timeouts can be exercised, and
// an HTTP request sent exactly as written, the way an attacker would.
import net from 'node:net';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface SilentServer {
  port: number;
  close(): void;
}

export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      s.close();
    },
  };
}

/** GET `path` exactly as written (no client-side normalisation of '..' or escapes); status and body. */
export function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.on('error', fail);
    sock.on('end', () => ok({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}
