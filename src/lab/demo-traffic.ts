/**
 * Four classic TCP endings on 127.0.0.1, run inside a throw-away namespace by scripts/demo.sh
 * while tcpdump records them: a clean exchange, a connect to a closed port, a server that
 * closes with the request unread (the kernel answers with RST), and a client that aborts.
 * Each step waits for the previous one to finish, so the capture reads like a story.
 */
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

const HOST = '127.0.0.1';

async function listen(port: number, onConnection: (s: Socket) => void, pauseOnConnect = false): Promise<Server> {
  // pauseOnConnect: Node must not even read from the kernel, so unread data stays in the receive queue.
  const server = createServer({ pauseOnConnect }, onConnection);
  server.listen(port, HOST);
  await once(server, 'listening');
  return server;
}

async function dial(port: number): Promise<Socket> {
  const s = connect(port, HOST);
  await once(s, 'connect');
  return s;
}

/** A request, a response, and both sides close (conn_state SF). */
async function cleanExchange(): Promise<void> {
  const server = await listen(8080, (s) => {
    s.once('data', () => s.end('HTTP/1.0 200 OK\r\n\r\nhello\n'));
  });
  const c = await dial(8080);
  c.end('GET / HTTP/1.0\r\n\r\n');
  c.resume();
  await once(c, 'close');
  server.close();
}

/** Nobody listens on port 9: the kernel answers the SYN with RST (conn_state REJ, ECONNREFUSED). */
async function refused(): Promise<void> {
  const c = connect(9, HOST);
  const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
  console.log(`connect to ${HOST}:9 → ${err.code}`);
}

/** The server closes without reading the request: unread data turns close() into a RST. */
async function closeWithUnreadData(): Promise<void> {
  let accepted: Socket | null = null;
  const server = await listen(
    8081,
    (s) => {
      accepted = s; // never read
    },
    true,
  );
  const c = await dial(8081);
  c.write('POST /upload HTTP/1.0\r\nContent-Length: 5\r\n\r\nabcde');
  // Let the bytes reach the server's receive queue, then close it unread.
  await new Promise((r) => setTimeout(r, 100));
  (accepted as Socket | null)?.destroy();
  const outcome = await new Promise<string>((resolve) => {
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    c.once('end', () => resolve('end of stream (a FIN, not a RST)'));
  });
  console.log(`client read after the server closed unread data → ${outcome}`);
  c.destroy();
  server.close();
}

/** The client aborts with SO_LINGER {1, 0} (Node's resetAndDestroy): a RST instead of a FIN. */
async function clientAbort(): Promise<void> {
  const server = await listen(8082, (s) => {
    s.resume();
    s.once('error', (e: NodeJS.ErrnoException) => console.log(`server read after the client aborted → ${e.code}`));
  });
  const c = await dial(8082);
  c.write('hello');
  await new Promise((r) => setTimeout(r, 50));
  c.resetAndDestroy();
  await new Promise((r) => setTimeout(r, 50));
  server.close();
}

await cleanExchange();
await refused();
await closeWithUnreadData();
await clientAbort();
