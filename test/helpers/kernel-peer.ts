#!/usr/bin/env node
/**
 * The traffic programs of the kernel tests, one process per role, run inside a test's network
 * namespace: `node kernel-peer.js MODE PORT [ARGS]`. Each prints "ready <pid> [<local port>]" when
 * it is set up and takes commands on stdin, one per line, so the test decides when things happen.
 *
 *   connect-closed PORT          connect to 127.0.0.1:PORT where nothing listens; prints "error <code>"
 *   client PORT [BYTES]          connect, send BYTES bytes (default 0), print "ready <pid> <lport>"; stdin "exit" ends
 *   abort-server PORT            accept without ever reading (pauseOnConnect); stdin "close" destroy()s the
 *                                accepted socket with the client's bytes unread in its receive queue
 *   linger-server PORT           accept and read everything; stdin "reset" closes with SO_LINGER {1,0}
 *                                (socket.resetAndDestroy())
 *   leaky-server PORT            the seed's server.c: accept()s and never close()s (never reads either)
 *   burst PORT FIN RST           FIN connections that end gracefully, then RST connections closed with
 *                                SO_LINGER {1,0}; prints "done"
 */
import net from 'node:net';
import { createInterface } from 'node:readline';

const [mode, portText, ...args] = process.argv.slice(2);
const port = Number(portText);
const HOST = '127.0.0.1';
const held: net.Socket[] = [];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function onCommand(handler: (cmd: string) => void): void {
  createInterface({ input: process.stdin }).on('line', (l) => handler(l.trim()));
  process.stdin.on('end', () => process.exit(0));
}

function listen(server: net.Server): void {
  server.listen(port, HOST, () => say(`ready ${process.pid}`));
}

switch (mode) {
  case 'connect-closed': {
    const s = net.connect({ port, host: HOST });
    s.on('connect', () => {
      say('error none');
      process.exit(1);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      say(`error ${e.code}`);
      process.exit(0);
    });
    say(`ready ${process.pid}`);
    break;
  }
  case 'client': {
    const bytes = Number(args[0] ?? 0);
    const s = net.connect({ port, host: HOST }, () => {
      const done = (): void => say(`ready ${process.pid} ${s.localPort}`);
      if (bytes > 0) s.write(Buffer.alloc(bytes, 0x61), done);
      else done();
    });
    s.on('error', (e: NodeJS.ErrnoException) => say(`error ${e.code}`));
    s.on('close', () => say('closed'));
    s.resume();
    held.push(s);
    onCommand((cmd) => {
      if (cmd === 'exit') process.exit(0);
    });
    break;
  }
  case 'abort-server': {
    const server = net.createServer({ pauseOnConnect: true }, (s) => {
      held.push(s);
      say(`accepted ${s.remotePort}`);
    });
    listen(server);
    onCommand((cmd) => {
      if (cmd === 'close') for (const s of held) s.destroy();
      if (cmd === 'close') say('closed');
    });
    break;
  }
  case 'linger-server': {
    const server = net.createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
      s.resume();
      say(`accepted ${s.remotePort}`);
    });
    listen(server);
    onCommand((cmd) => {
      if (cmd === 'reset') for (const s of held) s.resetAndDestroy();
      if (cmd === 'reset') say('reset');
    });
    break;
  }
  case 'leaky-server': {
    // accept() and nothing else: no read (so the FIN is never noticed), no close().
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (s) => {
      held.push(s);
      s.on('error', () => undefined);
      say(`accepted ${held.length}`);
    });
    listen(server);
    onCommand(() => undefined);
    break;
  }
  case 'burst': {
    const fin = Number(args[0] ?? 0);
    const rst = Number(args[1] ?? 0);
    say(`ready ${process.pid}`);
    const one = (reset: boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: HOST }, () => {
          if (reset) {
            s.resetAndDestroy();
            resolve();
          } else {
            // FIN, then close() once it is sent: the client's side lingers as an orphan in FIN_WAIT2.
            s.end(() => {
              s.destroy();
              resolve();
            });
          }
        });
        s.on('error', reject);
        s.on('close', () => resolve());
        s.resume();
      });
    (async () => {
      for (let i = 0; i < fin; i++) await one(false);
      for (let i = 0; i < rst; i++) await one(true);
      say('done');
      onCommand((cmd) => {
        if (cmd === 'exit') process.exit(0);
      });
    })().catch((e: Error) => {
      say(`error ${e.message}`);
      process.exit(1);
    });
    break;
  }
  default:
    process.stderr.write(`unknown mode ${String(mode)}\n`);
    process.exit(2);
}
