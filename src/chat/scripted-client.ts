#!/usr/bin/env node
/**
 * A chat client without a terminal, run as its own process by the lab's workload (workload.ts)
 * so that it can be frozen (SIGSTOP), killed (SIGKILL) or started inside a network namespace.
 *
 *   node scripted-client.js HOST PORT NICK
 *
 * Commands on stdin, one JSON object per line:
 *   {"say":"text"}        send a line
 *   {"raw":"text"}        send bytes without a newline (a message cut off mid-way)
 *   {"pause":true}        stop reading the socket (the receive window fills, then goes to zero)
 *   {"resume":true}       read again
 *   {"quit":"text"}       /quit, then wait for the server's FIN and exit
 * Events on stdout, one JSON object per line:
 *   {"event":"connected","local":"127.0.0.1:40112"}
 *   {"event":"line","text":"<bob> hi"}              (sanitised)
 *   {"event":"done","n":3}                          commands 1..3 are written to the socket
 *   {"event":"end","reason":"closed|reset|...","code":"ECONNRESET"}
 */
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { reasonForError, type EndReason } from './disconnect.js';
import { LineFramer, sanitizeText } from './protocol.js';

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function main(): void {
  const [host, portText, nick] = process.argv.slice(2);
  const port = Number(portText);
  if (host === undefined || !Number.isInteger(port) || nick === undefined) {
    process.stderr.write('usage: scripted-client HOST PORT NICK\n');
    process.exitCode = 2;
    return;
  }
  const socket = connect({ host, port, noDelay: true });
  let ended: { reason: EndReason; code?: string } | null = null;
  const framer = new LineFramer(1 << 20, {
    line: (b) => emit({ event: 'line', text: sanitizeText(b.toString('utf8')) }),
    overlong: (n) => emit({ event: 'overlong', bytes: n }),
  });
  socket.once('connect', () => {
    socket.write(`/nick ${nick}\n`);
    emit({ event: 'connected', local: `${socket.localAddress}:${socket.localPort}` });
  });
  socket.on('data', (chunk: Buffer) => framer.push(chunk));
  socket.on('end', () => {
    ended ??= { reason: 'closed' };
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    ended = { reason: reasonForError(err), code: err.code };
  });
  socket.on('close', () => {
    emit({ event: 'end', ...(ended ?? { reason: 'closed' }) });
    process.stdin.destroy();
  });
  let commands = 0;
  // Acknowledged once the bytes are in the kernel, so the workload knows a partial line is on its way.
  const done = (): void => {
    const n = ++commands;
    socket.write('', () => emit({ event: 'done', n }));
  };
  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (socket.destroyed) return;
    if (typeof cmd['say'] === 'string') socket.write(`${cmd['say']}\n`);
    else if (typeof cmd['raw'] === 'string') socket.write(cmd['raw']);
    else if (cmd['pause'] === true) socket.pause();
    else if (cmd['resume'] === true) socket.resume();
    else if (typeof cmd['quit'] === 'string') {
      socket.write(`/quit ${cmd['quit']}\n`);
      socket.end();
      return;
    }
    done();
  });
  // The workload ending our stdin means: leave now.
  input.on('close', () => {
    if (!socket.destroyed) socket.end();
  });
}

main();
