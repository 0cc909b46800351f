/**
 * The chat server: every client in one process on Node's event loop, instead of the seed's
 * fork() per client with children nobody reaps.
 *
 * Every resource has a limit with a default (CHAT_DEFAULTS) and every failure of a peer is an
 * ordinary event with a log line that names it (FIN, ECONNRESET, EPIPE, ETIMEDOUT):
 *  - input: lines are framed incrementally and bounded (protocol.ts); a flooder is throttled by
 *    no longer reading its socket, so TCP flow control slows it down and nothing is lost;
 *  - output: a broadcast is encoded once per event-loop turn and the same Buffer is written to
 *    every client. A client whose queue in this process (socket.writableLength, i.e. what its
 *    kernel send buffer could not take any more: its receive window is zero) would exceed
 *    `maxQueueBytes` is disconnected with a notice. Nobody waits for a slow reader and nothing
 *    is buffered without bound — ncat --chat, by contrast, blocks everyone on one frozen reader;
 *  - liveness: TCP keepalive reaps half-open peers whose host vanished; an idle timeout reaps
 *    peers that are connected but silent;
 *  - shutdown: a notice, then FIN (socket.end) to everyone, reading on until each peer closes so
 *    that unread data never turns our close into an RST.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { TsleuthError } from '../errors.js';
import { describeEnd, END_PHRASE, reasonForError, type EndReason } from './disconnect.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer, nickKey, nickProblem, sanitizeLine, sanitizeText } from './protocol.js';

export interface ChatServerOptions {
  /** Address to bind. Default: all interfaces (IPv6 and IPv4 where the host has both). */
  host?: string;
  /** TCP port; 0 picks a free one (see address()). Default 5555, as in the seed's experiments. */
  port?: number;
  /** Shown in the welcome, on lines typed at the server's console, and in LAN announcements. Default: the host name. */
  name?: string;
  /** Longest accepted line in bytes, without its LF. Longer lines are refused with a notice. Default 4096. */
  maxLineBytes?: number;
  /**
   * Bytes that may wait in this process for one client (beyond what its kernel send buffer took).
   * A client that would exceed it has stopped reading and is disconnected. Default 256 KiB.
   */
  maxQueueBytes?: number;
  /** Sustained lines per second one client may send; excess lines are delayed, not dropped. 0 = no limit. Default 20. */
  floodLinesPerSecond?: number;
  /** Lines a client may send in a burst before the per-second limit applies. Default 40. */
  floodBurstLines?: number;
  /** A client that sends nothing for this long is disconnected. 0 = never. Default 1 hour. */
  idleTimeoutMs?: number;
  /** TCP keepalive: first probe after this much silence. 0 = off. Default 60 s. */
  keepAliveMs?: number;
  /** Clients at once; the next one gets a polite refusal. Default 1024. */
  maxClients?: number;
  /** How long stop() waits for clients to close after its FIN before destroying their sockets. Default 5 s. */
  shutdownGraceMs?: number;
  /** How long a client that was sent away (idle, slow reader, /quit) may take to close before its socket is destroyed. Default 5 s. */
  closeGraceMs?: number;
  /** A new client's join is announced at its first line (usually /nick) or after this delay. Default 1 s. */
  joinGraceMs?: number;
  /** listen() backlog. Default 1024, so hundreds of clients can connect at once. */
  backlog?: number;
  /** Operational log (connects, disconnects and why). Default: discarded. */
  log?: (line: string) => void;
  /** Every line relayed to the room, as the users see it (already sanitised). Default: none. */
  transcript?: (line: string) => void;
}

/** The documented default of every limit. */
export const CHAT_DEFAULTS = {
  port: 5555,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxQueueBytes: 256 * 1024,
  floodLinesPerSecond: 20,
  floodBurstLines: 40,
  idleTimeoutMs: 60 * 60 * 1000,
  keepAliveMs: 60 * 1000,
  maxClients: 1024,
  shutdownGraceMs: 5000,
  closeGraceMs: 5000,
  joinGraceMs: 1000,
  backlog: 1024,
} as const;

export interface ChatServerStats {
  clients: number;
  accepted: number;
  refusedFull: number;
  evictedSlow: number;
  linesRelayed: number;
  overlongLines: number;
  /** Largest socket.writableLength seen for any client. */
  peakQueueBytes: number;
}

/** Events: 'join' ({nick, peer}), 'nick' ({from, to}), 'leave' ({nick, peer, reason, code?}), 'refused' ({peer}). */
export interface LeaveEvent {
  nick: string;
  peer: string;
  reason: EndReason;
  code?: string;
}

interface Client {
  id: number;
  socket: Socket;
  peer: string;
  nick: string;
  /** `<nick> `: the tag of every message, encoded once per nick. */
  tag: Buffer;
  framer: LineFramer;
  announced: boolean;
  joinTimer: NodeJS.Timeout | null;
  lastInputAt: number;
  tokens: number;
  tokensAt: number;
  /** Lines waiting for flood-limit tokens; bounded by one read, because reading stops while any wait. */
  held: Buffer[];
  heldTimer: NodeJS.Timeout | null;
  warnedFlood: boolean;
  /** Out of the room: receives nothing more, its input is read and ignored until the socket closes. */
  gone: boolean;
  closeTimer: NodeJS.Timeout | null;
}

const NL = Buffer.from('\n');
const NOTICE = Buffer.from('*** ');
/** A batch is written out at once when it grows this large, instead of at the end of the turn. */
const FLUSH_AT_BYTES = 64 * 1024;

const HELP = [
  'commands:',
  '  /nick NAME        take a nickname (1-16 letters, digits, _ or -)',
  '  /who              who is here',
  '  /msg NICK TEXT    a private message',
  '  /me TEXT          an action: "* you TEXT"',
  '  /quit [TEXT]      leave',
  '  /help             this list',
  '  //TEXT            send TEXT that starts with a slash',
];

export class ChatServer extends EventEmitter {
  private readonly opts: Required<Omit<ChatServerOptions, 'host' | 'log' | 'transcript'>> & Pick<ChatServerOptions, 'host'>;
  private readonly log: (line: string) => void;
  private readonly transcript: ((line: string) => void) | null;
  private server: Server | null = null;
  /** Clients in the room: they receive broadcasts. */
  private readonly room = new Set<Client>();
  /** Every open socket, in the room or on its way out; stop() waits for all of them. */
  private readonly sockets = new Set<Socket>();
  private readonly byNick = new Map<string, Client>();
  private nextId = 1;
  private nextGuest = 1;
  private batch: Buffer[] = [];
  private batchFrom: (Client | null)[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly consoleTag: Buffer;
  private readonly counters: ChatServerStats = { clients: 0, accepted: 0, refusedFull: 0, evictedSlow: 0, linesRelayed: 0, overlongLines: 0, peakQueueBytes: 0 };

  constructor(options: ChatServerOptions = {}) {
    super();
    const name = sanitizeText(options.name ?? hostname()).slice(0, 64) || 'chat';
    this.opts = {
      host: options.host,
      port: options.port ?? CHAT_DEFAULTS.port,
      name,
      maxLineBytes: options.maxLineBytes ?? CHAT_DEFAULTS.maxLineBytes,
      maxQueueBytes: options.maxQueueBytes ?? CHAT_DEFAULTS.maxQueueBytes,
      floodLinesPerSecond: options.floodLinesPerSecond ?? CHAT_DEFAULTS.floodLinesPerSecond,
      floodBurstLines: options.floodBurstLines ?? CHAT_DEFAULTS.floodBurstLines,
      idleTimeoutMs: options.idleTimeoutMs ?? CHAT_DEFAULTS.idleTimeoutMs,
      keepAliveMs: options.keepAliveMs ?? CHAT_DEFAULTS.keepAliveMs,
      maxClients: options.maxClients ?? CHAT_DEFAULTS.maxClients,
      shutdownGraceMs: options.shutdownGraceMs ?? CHAT_DEFAULTS.shutdownGraceMs,
      closeGraceMs: options.closeGraceMs ?? CHAT_DEFAULTS.closeGraceMs,
      joinGraceMs: options.joinGraceMs ?? CHAT_DEFAULTS.joinGraceMs,
      backlog: options.backlog ?? CHAT_DEFAULTS.backlog,
    };
    for (const key of ['maxLineBytes', 'maxQueueBytes', 'maxClients', 'backlog'] as const) {
      if (!Number.isInteger(this.opts[key]) || this.opts[key] < 1) throw new TsleuthError('TSL_ERR_USAGE', `chat server: ${key} must be a whole number ≥ 1`);
    }
    for (const key of ['floodLinesPerSecond', 'floodBurstLines', 'idleTimeoutMs', 'keepAliveMs', 'shutdownGraceMs', 'closeGraceMs', 'joinGraceMs'] as const) {
      if (!Number.isFinite(this.opts[key]) || this.opts[key] < 0) throw new TsleuthError('TSL_ERR_USAGE', `chat server: ${key} must be a number ≥ 0`);
    }
    this.log = options.log ?? (() => undefined);
    this.transcript = options.transcript ?? null;
    this.consoleTag = Buffer.from(`<@${name}> `);
  }

  get name(): string {
    return this.opts.name;
  }

  get maxClients(): number {
    return this.opts.maxClients;
  }

  /** The bound address (after start()). */
  address(): AddressInfo {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') throw new Error('chat server is not listening');
    return a;
  }

  stats(): ChatServerStats {
    return { ...this.counters, clients: this.room.size };
  }

  /** Nicknames in the room, in order of arrival. */
  who(): string[] {
    return [...this.room].map((c) => c.nick);
  }

  /** Binds --host/--port and starts accepting. Nothing else listens. */
  async start(): Promise<AddressInfo> {
    if (this.server !== null) throw new Error('chat server already started');
    const server = createServer({ allowHalfOpen: false });
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, this.opts.host, this.opts.port)));
      server.listen({ host: this.opts.host, port: this.opts.port, backlog: this.opts.backlog }, () => resolve());
    });
    server.on('error', (e) => this.log(`server socket error: ${e.message}`));
    if (this.opts.idleTimeoutMs > 0) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.max(50, Math.min(this.opts.idleTimeoutMs / 4, 30_000)));
      this.sweepTimer.unref();
    }
    const a = this.address();
    this.log(`listening on ${endpoint(a.address, a.port)} as "${this.opts.name}" (max ${this.opts.maxClients} clients, lines ≤ ${this.opts.maxLineBytes} B, queue ≤ ${this.opts.maxQueueBytes} B per client)`);
    return a;
  }

  /**
   * Graceful shutdown: stop accepting, tell everyone, send FIN (never RST: we keep reading until
   * each peer closes its side too), then after `shutdownGraceMs` destroy what is left.
   */
  stop(message = 'server shutting down; goodbye'): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = this.shutdown(message);
    return this.stopping;
  }

  /** A line typed at the server's console, broadcast as `<@name> text` (the seed's server did this for its one client). */
  say(text: string): void {
    const clean = sanitizeText(text);
    if (clean === '' || this.stopping !== null) return;
    this.broadcast(null, this.consoleTag, Buffer.from(clean));
  }

  // --- connections -------------------------------------------------------------------------

  private accept(socket: Socket): void {
    const peer = endpoint(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.stopping !== null || this.room.size >= this.opts.maxClients) {
      // Polite: a line saying why, then FIN; reading on so our close cannot become an RST.
      this.counters.refusedFull++;
      const why = this.stopping !== null ? 'the server is shutting down' : `the server is full (${this.opts.maxClients} clients); try again later`;
      this.log(`${peer}: refused: ${why}`);
      this.emit('refused', { peer });
      socket.on('error', () => undefined);
      socket.resume();
      socket.end(`*** sorry, ${why}\n`);
      setTimeout(() => socket.destroy(), this.opts.closeGraceMs).unref();
      return;
    }
    this.counters.accepted++;
    socket.setNoDelay(true); // chat is interactive: no Nagle / delayed-ACK stalls on the LAN
    if (this.opts.keepAliveMs > 0) socket.setKeepAlive(true, this.opts.keepAliveMs);
    const nick = this.guestNick();
    const now = Date.now();
    const c: Client = {
      id: this.nextId++,
      socket,
      peer,
      nick,
      tag: Buffer.from(`<${nick}> `),
      framer: null as unknown as LineFramer,
      announced: false,
      joinTimer: null,
      lastInputAt: now,
      tokens: this.opts.floodBurstLines,
      tokensAt: now,
      held: [],
      heldTimer: null,
      warnedFlood: false,
      gone: false,
      closeTimer: null,
    };
    c.framer = new LineFramer(this.opts.maxLineBytes, {
      line: (bytes) => this.onLine(c, bytes),
      overlong: (bytes) => this.onOverlong(c, bytes),
    });
    this.room.add(c);
    this.byNick.set(nickKey(nick), c);
    socket.on('data', (chunk: Buffer) => {
      if (!c.gone) c.framer.push(chunk);
    });
    socket.on('end', () => {
      // FIN from the peer. A last line without LF is still a message (printf 'hi' | nc ...).
      if (c.gone) return;
      const last = c.framer.end();
      if (last !== null) this.onLine(c, last);
      this.releaseHeld(c, true);
      this.leave(c, 'closed');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reason = reasonForError(err);
      if (c.gone) {
        this.log(`${this.who1(c)}: after it left: ${describeEnd(reason, err)}`);
        return;
      }
      const lost = c.framer.discard();
      this.leave(c, reason, err, lost);
    });
    socket.on('close', () => {
      if (c.closeTimer !== null) clearTimeout(c.closeTimer);
      if (!c.gone) this.leave(c, 'closed');
    });
    this.log(`${peer}: connected as ${nick} (${this.room.size} here)`);
    const others = this.room.size - 1;
    this.sendNotice(c, `welcome to ${this.opts.name}: you are ${nick}, ${others} other${others === 1 ? '' : 's'} here. /nick NAME to choose a name, /help for commands`);
    c.joinTimer = setTimeout(() => this.announceJoin(c), this.opts.joinGraceMs);
    c.joinTimer.unref();
  }

  private guestNick(): string {
    for (;;) {
      const nick = `guest${this.nextGuest++}`;
      if (!this.byNick.has(nickKey(nick))) return nick;
    }
  }

  private announceJoin(c: Client): void {
    if (c.announced || c.gone) return;
    c.announced = true;
    if (c.joinTimer !== null) clearTimeout(c.joinTimer);
    c.joinTimer = null;
    this.broadcast(c, NOTICE, Buffer.from(`${c.nick} joined from ${hostOf(c.peer)} (${this.room.size} here)`));
    this.emit('join', { nick: c.nick, peer: c.peer });
  }

  /**
   * Takes a client out of the room, says why in the log and to the others, and, when the
   * decision was ours, ends its socket with a last notice (FIN) and a deadline.
   */
  private leave(c: Client, reason: EndReason, err?: NodeJS.ErrnoException, lostBytes = 0, farewell?: string): void {
    if (c.gone) return;
    c.gone = true;
    this.room.delete(c);
    if (this.byNick.get(nickKey(c.nick)) === c) this.byNick.delete(nickKey(c.nick));
    if (c.joinTimer !== null) clearTimeout(c.joinTimer);
    if (c.heldTimer !== null) clearTimeout(c.heldTimer);
    c.held = [];
    const lost = lostBytes > 0 ? `; an unfinished line of ${lostBytes} B was discarded` : '';
    this.log(`${this.who1(c)}: left: ${describeEnd(reason, err)}${lost} (${this.room.size} here)`);
    if (c.announced) {
      const extra = farewell !== undefined && farewell !== '' ? `: ${farewell}` : '';
      this.broadcast(null, NOTICE, Buffer.from(`${c.nick} left (${END_PHRASE[reason]})${extra}`));
    }
    this.emit('leave', { nick: c.nick, peer: c.peer, reason, code: err?.code } satisfies LeaveEvent);
    const ours = reason === 'quit' || reason === 'idle' || reason === 'slow-reader' || reason === 'flood';
    if (ours && !c.socket.destroyed) {
      const bye = reason === 'quit' ? 'bye' : `you were disconnected: ${END_PHRASE[reason]}`;
      c.socket.resume();
      c.socket.end(`*** ${bye}\n`);
      c.closeTimer = setTimeout(() => c.socket.destroy(), this.opts.closeGraceMs);
      c.closeTimer.unref();
    }
  }

  private who1(c: Client): string {
    return `${c.nick} (${c.peer})`;
  }

  // --- input -------------------------------------------------------------------------------

  private onOverlong(c: Client, bytes: number): void {
    if (c.gone) return;
    c.lastInputAt = Date.now();
    this.counters.overlongLines++;
    this.sendNotice(c, `line too long (${bytes} bytes, the limit is ${this.opts.maxLineBytes}); it was not sent`);
  }

  private onLine(c: Client, line: Buffer): void {
    if (c.gone) return;
    c.lastInputAt = Date.now();
    if (this.opts.floodLinesPerSecond > 0) {
      if (c.held.length > 0 || !this.takeToken(c)) {
        c.held.push(Buffer.from(line));
        this.holdForTokens(c);
        return;
      }
    }
    this.handle(c, line);
  }

  private takeToken(c: Client): boolean {
    const now = Date.now();
    c.tokens = Math.min(this.opts.floodBurstLines, c.tokens + ((now - c.tokensAt) / 1000) * this.opts.floodLinesPerSecond);
    c.tokensAt = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  /** Stops reading a flooder (TCP flow control then slows its sender) until tokens accrue. */
  private holdForTokens(c: Client): void {
    if (c.heldTimer !== null) return;
    c.socket.pause();
    if (!c.warnedFlood) {
      c.warnedFlood = true;
      this.sendNotice(c, `slow down: at most ${this.opts.floodLinesPerSecond} lines per second; your lines are delayed, none are lost`);
    }
    const waitMs = Math.max(1, Math.ceil(((1 - c.tokens) / this.opts.floodLinesPerSecond) * 1000));
    c.heldTimer = setTimeout(() => {
      c.heldTimer = null;
      this.releaseHeld(c, false);
    }, waitMs);
  }

  private releaseHeld(c: Client, all: boolean): void {
    while (c.held.length > 0 && !c.gone && (all || this.takeToken(c))) this.handle(c, c.held.shift()!);
    if (c.gone) return;
    if (c.held.length > 0) this.holdForTokens(c);
    else {
      c.warnedFlood = false;
      c.socket.resume();
    }
  }

  private handle(c: Client, line: Buffer): void {
    if (line.length === 0) return;
    if (line[0] === 0x2f /* '/' */) {
      if (line.length > 1 && line[1] === 0x2f) {
        this.message(c, line.subarray(1));
        return;
      }
      this.command(c, sanitizeText(line.toString('utf8')));
      return;
    }
    this.message(c, line);
  }

  private message(c: Client, line: Buffer): void {
    const clean = sanitizeLine(line);
    if (clean.length === 0) return;
    this.announceJoin(c);
    this.counters.linesRelayed++;
    this.broadcast(c, c.tag, clean);
  }

  private command(c: Client, text: string): void {
    const m = /^\/(\S+)\s*(.*)$/s.exec(text);
    const name = (m?.[1] ?? '').toLowerCase();
    const args = (m?.[2] ?? '').trim();
    switch (name) {
      case 'nick':
        this.rename(c, args);
        this.announceJoin(c);
        return;
      case 'who': {
        const nicks = this.who();
        this.sendNotice(c, `${nicks.length} here: ${nicks.join(', ')}`);
        return;
      }
      case 'msg': {
        const mm = /^(\S+)\s+(.+)$/s.exec(args);
        if (mm === null) return this.sendNotice(c, 'usage: /msg NICK TEXT');
        const to = this.byNick.get(nickKey(mm[1]!));
        if (to === undefined) return this.sendNotice(c, `no one called ${JSON.stringify(mm[1]!)} is here (/who lists everyone)`);
        const body = mm[2]!;
        this.announceJoin(c);
        this.sendLine(to, Buffer.from(`*${c.nick}* ${body}\n`));
        this.sendLine(c, Buffer.from(`-> *${to.nick}* ${body}\n`));
        return;
      }
      case 'me':
        if (args === '') return this.sendNotice(c, 'usage: /me TEXT');
        this.announceJoin(c);
        this.counters.linesRelayed++;
        this.broadcast(c, Buffer.from(`* ${c.nick} `), Buffer.from(args));
        return;
      case 'quit':
        this.announceJoin(c);
        this.leave(c, 'quit', undefined, 0, args);
        return;
      case 'help':
        for (const l of HELP) this.sendNotice(c, l);
        return;
      case 'ping':
        // Clients send this to stay under the idle timeout; the reply tells them the link works.
        this.sendNotice(c, 'pong');
        return;
      default:
        this.sendNotice(c, `unknown command /${name}; /help lists the commands (start a line with // to send text that begins with /)`);
    }
  }

  private rename(c: Client, wanted: string): void {
    if (wanted === '') return this.sendNotice(c, `you are ${c.nick}; /nick NAME to change it`);
    const problem = nickProblem(wanted);
    if (problem !== null) return this.sendNotice(c, `cannot take that nickname: ${problem}; you are still ${c.nick}`);
    const holder = this.byNick.get(nickKey(wanted));
    if (holder !== undefined && holder !== c) return this.sendNotice(c, `the nickname ${wanted} is taken; you are still ${c.nick}`);
    if (wanted === c.nick) return this.sendNotice(c, `you are already ${c.nick}`);
    const old = c.nick;
    this.byNick.delete(nickKey(old));
    this.byNick.set(nickKey(wanted), c);
    c.nick = wanted;
    c.tag = Buffer.from(`<${wanted}> `);
    this.log(`${c.peer}: ${old} is now ${wanted}`);
    this.sendNotice(c, `you are now known as ${wanted}`);
    if (c.announced) this.broadcast(c, NOTICE, Buffer.from(`${old} is now known as ${wanted}`));
    this.emit('nick', { from: old, to: wanted });
  }

  private sweepIdle(): void {
    const limit = Date.now() - this.opts.idleTimeoutMs;
    for (const c of this.room) if (c.lastInputAt < limit) this.leave(c, 'idle');
  }

  // --- output ------------------------------------------------------------------------------

  /**
   * Queues one line for everyone in the room except its author (who typed it and sees it
   * already, as in the seed, ncat and IRC). Lines collect for the rest of this event-loop turn
   * and then go out as one Buffer, the same for every recipient.
   */
  private broadcast(from: Client | null, tag: Buffer, text: Buffer): void {
    this.batch.push(tag, text, NL);
    this.batchFrom.push(from);
    this.batchBytes += tag.length + text.length + 1;
    if (this.transcript !== null) this.transcript(`${tag.toString('utf8')}${text.toString('utf8')}`);
    if (this.batchBytes >= FLUSH_AT_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batchFrom.length === 0) return;
    const parts = this.batch;
    const from = this.batchFrom;
    const all = Buffer.concat(parts, this.batchBytes);
    this.batch = [];
    this.batchFrom = [];
    this.batchBytes = 0;
    const authors = new Set<Client>();
    for (const f of from) if (f !== null) authors.add(f);
    for (const c of this.room) {
      if (!authors.has(c)) {
        this.send(c, all);
        continue;
      }
      // An author gets the batch without its own lines (rare: only for clients that spoke this turn).
      const mine: Buffer[] = [];
      for (let i = 0; i < from.length; i++) if (from[i] !== c) mine.push(parts[3 * i]!, parts[3 * i + 1]!, parts[3 * i + 2]!);
      if (mine.length > 0) this.send(c, Buffer.concat(mine));
    }
  }

  /** Direct lines go out after everything already broadcast, so each client sees one order. */
  private sendLine(c: Client, line: Buffer): void {
    this.flush();
    this.send(c, line);
  }

  private sendNotice(c: Client, text: string): void {
    this.sendLine(c, Buffer.from(`*** ${text}\n`));
  }

  /**
   * The slow-consumer policy. socket.write() never blocks; what the kernel cannot take waits in
   * socket.writableLength. If that would pass maxQueueBytes the client is not reading (its
   * receive window is zero) and it is disconnected, so it never holds back anyone else and
   * never costs more than maxQueueBytes here.
   */
  private send(c: Client, buf: Buffer): void {
    if (c.gone) return;
    const queued = c.socket.writableLength;
    if (queued > 0 && queued + buf.length > this.opts.maxQueueBytes) {
      this.counters.evictedSlow++;
      this.log(`${this.who1(c)}: not reading: ${queued} B already queued here on top of a full kernel send buffer (limit ${this.opts.maxQueueBytes} B); its receive window is zero — the program stopped calling recv()`);
      this.leave(c, 'slow-reader');
      return;
    }
    c.socket.write(buf);
    if (c.socket.writableLength > this.counters.peakQueueBytes) this.counters.peakQueueBytes = c.socket.writableLength;
  }

  // --- shutdown ----------------------------------------------------------------------------

  private async shutdown(message: string): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const server = this.server;
    const closed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    this.flush();
    const clients = [...this.room];
    const bye = Buffer.from(`*** ${sanitizeText(message)}\n`);
    for (const c of clients) {
      c.gone = true;
      this.room.delete(c);
      if (c.joinTimer !== null) clearTimeout(c.joinTimer);
      if (c.heldTimer !== null) clearTimeout(c.heldTimer);
      c.held = [];
      // Keep reading (and ignoring) so unread input never turns our close into an RST.
      c.socket.resume();
      c.socket.end(bye);
      this.emit('leave', { nick: c.nick, peer: c.peer, reason: 'shutdown' } satisfies LeaveEvent);
    }
    this.byNick.clear();
    this.log(`shutting down: sent a notice and FIN to ${clients.length} client${clients.length === 1 ? '' : 's'}`);
    const open = [...this.sockets];
    const allClosed = Promise.all(open.map((s) => (s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())))));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      allClosed.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), this.opts.shutdownGraceMs);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      const left = [...this.sockets];
      this.log(`${left.length} client${left.length === 1 ? '' : 's'} did not close within ${this.opts.shutdownGraceMs} ms; closing their sockets now`);
      for (const s of left) s.destroy();
    }
    await closed;
    this.log('stopped');
  }
}

function endpoint(addr: string, port: number): string {
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

function hostOf(peer: string): string {
  return peer.startsWith('[') ? peer.slice(1, peer.indexOf(']')) : peer.slice(0, peer.lastIndexOf(':'));
}

function listenError(e: NodeJS.ErrnoException, host: string | undefined, port: number): Error {
  const where = `${host ?? 'all interfaces'} port ${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new TsleuthError('TSL_ERR_ENV', `cannot listen on ${where}: something already listens there (EADDRINUSE); choose another --port or stop the other server`);
    case 'EACCES':
      return new TsleuthError('TSL_ERR_PRIVILEGE', `cannot listen on ${where}: ports below 1024 need root or CAP_NET_BIND_SERVICE (EACCES)`);
    case 'EADDRNOTAVAIL':
      return new TsleuthError('TSL_ERR_USAGE', `cannot listen on ${where}: this host has no such address (EADDRNOTAVAIL)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TsleuthError('TSL_ERR_USAGE', `cannot listen on ${where}: the host name does not resolve`);
    default:
      return new TsleuthError('TSL_ERR_ENV', `cannot listen on ${where}: ${e.message}`);
  }
}
